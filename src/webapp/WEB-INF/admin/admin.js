// Drawbridge admin page: polls api/status once a second and draws it. No framework, no build step,
// nothing from another origin; every value from the proxy goes into the page as text, never HTML.
"use strict";

(function () {
  const POLL_MILLIS = 1000;
  // A status answer slower than this counts as the proxy not answering.
  const TIMEOUT_MILLIS = 3000;
  // Queue depth samples kept for the plot: five minutes at one per second.
  const QUEUE_SAMPLES = 300;
  const SVG = "http://www.w3.org/2000/svg";
  const W = 300;
  const H = 90;
  const PAD_TOP = 12;
  const PAD_BOTTOM = 4;

  const cards = new Map();          // backend id -> card element
  const queueHistory = new Map();   // backend id -> [{t, v}]
  let lastSuccess = null;           // Date of the last good answer
  let lastReport = null;

  const $ = (id) => document.getElementById(id);

  // ---- formatting --------------------------------------------------------------------------

  function duration(millis) {
    if (millis == null || isNaN(millis)) return "—";
    if (millis < 1) return "<1 ms";
    if (millis < 1000) return Math.round(millis) + " ms";
    const s = millis / 1000;
    if (s < 10) return s.toFixed(1) + " s";
    if (s < 60) return Math.round(s) + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min " + Math.floor(s % 60) + " s";
    const h = Math.floor(m / 60);
    if (h < 48) return h + " h " + (m % 60) + " min";
    return Math.floor(h / 24) + " d " + (h % 24) + " h";
  }

  function ago(iso, nowMillis) {
    const t = Date.parse(iso);
    return isNaN(t) ? "—" : duration(Math.max(0, nowMillis - t)) + " ago";
  }

  function clock(date) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function number(n, digits) {
    if (n == null || isNaN(n)) return "—";
    return Number(n).toLocaleString(undefined, { maximumFractionDigits: digits || 0 });
  }

  function plural(n, noun) {
    return number(n) + " " + noun + (n === 1 ? "" : "s");
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }

  // ---- plots -------------------------------------------------------------------------------

  function niceMax(value) {
    if (value <= 0) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (value <= step * power) return step * power;
    }
    return 10 * power;
  }

  function frame(chart, max, unit) {
    chart.replaceChildren();
    chart.append(svg("line", { class: "grid", x1: 0, x2: W, y1: PAD_TOP, y2: PAD_TOP }));
    chart.append(svg("line", { class: "grid", x1: 0, x2: W, y1: H - PAD_BOTTOM, y2: H - PAD_BOTTOM }));
    const label = svg("text", { class: "axis-label", x: 0, y: PAD_TOP - 3 });
    label.textContent = number(max, 2) + (unit ? " " + unit : "");
    chart.append(label);
  }

  function y(value, max) {
    return H - PAD_BOTTOM - (Math.min(value, max) / max) * (H - PAD_TOP - PAD_BOTTOM);
  }

  function noData(chart, text) {
    chart.replaceChildren();
    chart.append(svg("line", { class: "grid", x1: 0, x2: W, y1: H - PAD_BOTTOM, y2: H - PAD_BOTTOM }));
    const label = svg("text", { class: "nodata", x: W / 2, y: H / 2, "text-anchor": "middle" });
    label.textContent = text;
    chart.append(label);
  }

  function linePath(values, max) {
    const step = values.length > 1 ? W / (values.length - 1) : W;
    let d = "";
    values.forEach((v, i) => {
      if (v == null) return;
      const prev = i > 0 ? values[i - 1] : null;
      d += (prev == null ? "M" : "L") + (i * step).toFixed(1) + " " + y(v, max).toFixed(1) + " ";
    });
    return d.trim();
  }

  function drawQueue(chart, samples, windowMillis, nowMillis) {
    if (samples.length === 0) return noData(chart, "no samples yet");
    const max = niceMax(Math.max(...samples.map((s) => s.v)));
    frame(chart, max);
    const x = (t) => W - ((nowMillis - t) / windowMillis) * W;
    // Steps, not slopes: the depth holds its value until the next sample.
    let line = "";
    samples.forEach((s, i) => {
      const px = x(s.t).toFixed(1);
      line += i ? "H" + px + " V" + y(s.v, max).toFixed(1) + " " : "M" + px + " " + y(s.v, max).toFixed(1) + " ";
    });
    const first = x(samples[0].t).toFixed(1);
    const last = x(samples[samples.length - 1].t).toFixed(1);
    chart.append(svg("path", { class: "area", d: line + "L" + last + " " + (H - PAD_BOTTOM) + " L" + first + " " + (H - PAD_BOTTOM) + " Z" }));
    chart.append(svg("path", { class: "line line-queue", d: line.trim() }));
    const now = samples[samples.length - 1];
    chart.append(svg("circle", { class: "dot-queue", cx: last, cy: y(now.v, max).toFixed(1), r: 2.5 }));
  }

  function drawRate(chart, series, bucketSeconds, nowMillis) {
    // The running bucket is still filling: its rate is over the part that has elapsed.
    const seconds = (p, i) => (i === series.length - 1
      ? Math.min(bucketSeconds, Math.max(1, (nowMillis - p.start) / 1000)) : bucketSeconds);
    const rates = series.map((p, i) => p.requests / seconds(p, i));
    if (!rates.some((r) => r > 0)) return noData(chart, "no requests in the last 5 min");
    const max = niceMax(Math.max(...rates));
    frame(chart, max, "/s");
    const slot = W / series.length;
    series.forEach((p, i) => {
      if (p.requests === 0) return;
      const top = y(p.requests / seconds(p, i), max);
      const errTop = y(p.serverErrors / seconds(p, i), max);
      const x = (i * slot + 0.5).toFixed(1);
      const width = Math.max(1, slot - 1).toFixed(1);
      chart.append(svg("rect", { class: "bar", x, y: top.toFixed(1), width, height: (H - PAD_BOTTOM - top).toFixed(1) }));
      if (p.serverErrors > 0) {
        chart.append(svg("rect", { class: "bar-err", x, y: errTop.toFixed(1), width, height: (H - PAD_BOTTOM - errTop).toFixed(1) }));
      }
    });
  }

  function drawLatency(chart, series) {
    if (!series.some((p) => p.requests > 0)) return noData(chart, "no requests in the last 5 min");
    const pick = (key) => series.map((p) => (p.requests > 0 ? p[key] : null));
    const max = niceMax(Math.max(...series.map((p) => p.p99Millis)));
    frame(chart, max, "ms");
    for (const key of ["p50", "p90", "p99"]) {
      const values = pick(key + "Millis");
      chart.append(svg("path", { class: "line line-" + key, d: linePath(values, max) }));
      // Lone points (a bucket between two empty ones) would not show as a line.
      const step = W / (values.length - 1);
      values.forEach((v, i) => {
        if (v != null && values[i - 1] == null && values[i + 1] == null) {
          chart.append(svg("circle", { class: "line line-" + key, cx: (i * step).toFixed(1), cy: y(v, max).toFixed(1), r: 1.5 }));
        }
      });
    }
  }

  // ---- backend cards -----------------------------------------------------------------------

  function card(id) {
    let node = cards.get(id);
    if (!node) {
      node = $("backend-template").content.firstElementChild.cloneNode(true);
      node.dataset.backend = id;
      $("backends").append(node);
      cards.set(id, node);
    }
    return node;
  }

  function field(node, name) {
    return node.querySelector('[data-field="' + name + '"]');
  }

  function health(backend) {
    if (backend.agents.length === 0) {
      return ["bad", "no agent", backend.queueDepth > 0
        ? plural(backend.queueDepth, "request") + " waiting; they fail with 503 unless an agent connects"
        : "requests will wait, then fail with 503"];
    }
    if (backend.queueDepth > 0 && backend.oldestQueuedMillis >= 1000) {
      return ["warn", "queueing", "agents are busy: requests wait " + duration(backend.oldestQueuedMillis) + " for one"];
    }
    if (backend.recent.requests > 0 && backend.recent.failures / backend.recent.requests > 0.05) {
      return ["warn", "failing", number(100 * backend.recent.failures / backend.recent.requests) + "% of recent requests failed"];
    }
    return ["ok", "healthy", plural(backend.agents.length, "agent") + " connected"];
  }

  function renderBackend(backend, nowMillis) {
    const node = card(backend.id);
    const recent = backend.recent;
    const [level, badge, text] = health(backend);
    field(node, "id").textContent = backend.id;
    const badgeNode = field(node, "health");
    badgeNode.className = "badge " + level;
    badgeNode.textContent = badge;
    field(node, "healthText").textContent = text;

    field(node, "queueDepth").textContent = number(backend.queueDepth);
    field(node, "queueMax").textContent = "of " + number(backend.maxQueued) + " max";
    field(node, "queueDepth").parentElement.classList.toggle("warn", backend.queueDepth > 0 && backend.agents.length > 0);
    field(node, "queueDepth").parentElement.classList.toggle("bad", backend.queueDepth > 0 && backend.agents.length === 0);
    field(node, "oldestQueued").textContent = backend.queueDepth > 0 ? duration(backend.oldestQueuedMillis) : "—";
    field(node, "oldestQueued").parentElement.classList.toggle("warn", backend.oldestQueuedMillis >= 1000);
    field(node, "waitingPolls").textContent = number(backend.waitingPolls);
    field(node, "inFlight").textContent = number(backend.inFlight);
    field(node, "upgraded").textContent = number(backend.upgraded);
    field(node, "upgradedMax").textContent = backend.maxUpgraded > 0 ? "open, of " + number(backend.maxUpgraded) + " max" : "open";
    field(node, "upgraded").parentElement.classList.toggle("warn", backend.maxUpgraded > 0 && backend.upgraded >= backend.maxUpgraded);
    field(node, "rate").textContent = number(recent.ratePerSecond, recent.ratePerSecond < 10 ? 1 : 0);
    field(node, "requests").textContent = number(recent.requests) + " in the last " + Math.round(recent.windowSeconds / 60) + " min";
    const latency = field(node, "latency");
    latency.classList.toggle("value-small", recent.requests > 0);
    if (recent.requests > 0) {
      latency.replaceChildren(...["p50", "p90", "p99"].flatMap((p) => [el("em", null, p), el("span", null, duration(recent[p + "Millis"]))]));
    } else {
      latency.textContent = "—";
    }
    field(node, "failures").textContent = number(recent.failures);
    field(node, "failures").parentElement.classList.toggle("bad", recent.failures > 0);
    const classes = recent.statusClasses;
    field(node, "classes").textContent = recent.requests === 0 ? "no requests yet" : ["2xx", "3xx", "4xx", "5xx"]
      .filter((c) => c === "2xx" || classes[c] > 0)
      .map((c) => number(classes[c]) + " " + c).join(" · ");

    const history = queueHistory.get(backend.id) || [];
    history.push({ t: nowMillis, v: backend.queueDepth });
    while (history.length > QUEUE_SAMPLES || (history.length && nowMillis - history[0].t > recent.windowSeconds * 1000)) history.shift();
    queueHistory.set(backend.id, history);
    drawQueue(node.querySelector('[data-chart="queue"]'), history, recent.windowSeconds * 1000, nowMillis);
    drawRate(node.querySelector('[data-chart="rate"]'), recent.series, recent.bucketSeconds, nowMillis);
    drawLatency(node.querySelector('[data-chart="latency"]'), recent.series);

    field(node, "agentCount").textContent = "(" + backend.agents.length + ")";
    const rows = backend.agents.map((agent) => {
      const row = el("tr");
      row.append(el("td", "mono", agent.id), el("td", "mono", agent.remoteAddress), el("td", null, agent.version));
      const since = el("td", null, ago(agent.connectedSince, nowMillis));
      since.title = agent.connectedSince;
      const seenMillis = nowMillis - Date.parse(agent.lastSeen);
      const seen = el("td", seenMillis > 30000 ? "stale" : null, ago(agent.lastSeen, nowMillis));
      seen.title = agent.lastSeen;
      const token = el("td", "mono", agent.token || "—");
      token.title = "first 12 hex digits of the SHA-256 of the agent's token";
      row.append(since, seen, el("td", null, number(agent.inFlight)), token, nodesCell(agent.nodes || []));
      return row;
    });
    field(node, "agents").replaceChildren(...rows);
    labelCells(field(node, "agents"));
    field(node, "agents").closest(".table-wrap").hidden = rows.length === 0;
    field(node, "noAgents").hidden = rows.length > 0;
  }

  // On a phone each row becomes a small card; every cell then shows its column's name.
  /** The proxy nodes an agent reports; a node it cannot reach stands out. */
  function nodesCell(nodes) {
    const cell = el("td", "mono");
    if (nodes.length === 0) {
      cell.textContent = "—";
      return cell;
    }
    const attached = nodes.filter((n) => n.state === "connected").length;
    cell.append(el("span", attached < nodes.length ? "stale" : null, attached + " of " + nodes.length));
    for (const n of nodes) {
      const line = el("span", "node" + (n.state === "connected" ? "" : " stale"), n.node + (n.state === "connected" ? "" : " (" + n.state + ")"));
      cell.append(el("br"), line);
    }
    return cell;
  }

  function labelCells(tbody) {
    const names = [...tbody.closest("table").querySelectorAll("thead th")].map((th) => th.textContent);
    for (const row of tbody.rows) {
      [...row.cells].forEach((cell, i) => { cell.dataset.label = names[i] || ""; });
    }
  }

  // ---- failures ----------------------------------------------------------------------------

  function renderFailures(failures, nowMillis) {
    const rows = failures.map((f) => {
      const row = el("tr");
      const when = el("td", null, ago(f.at, nowMillis));
      when.title = f.at;
      const status = el("td");
      status.append(el("span", "status s" + String(f.status).charAt(0), String(f.status)), el("span", "outcome", f.outcome.toLowerCase().replace("_", " ")));
      const target = el("td", "target mono", f.method + " " + f.target);
      target.title = f.method + " " + f.target;
      const ids = el("td", "mono", f.exchangeId);
      ids.append(el("span", "outcome", f.agentId ? "agent " + f.agentId : "no agent"));
      row.append(when, el("td", null, f.backend), status, el("td", "reason", f.reason || ""), target, el("td", null, duration(f.totalMillis)), ids);
      return row;
    });
    $("failures").replaceChildren(...rows);
    labelCells($("failures"));
    $("failures").closest(".table-wrap").hidden = rows.length === 0;
    $("no-failures").hidden = rows.length > 0;
  }

  // ---- configuration -----------------------------------------------------------------------

  function renderConfig(config, nowMillis) {
    if (!config) return;
    $("config-file").textContent = config.file ? config.file : "no file: first-run defaults";
    $("config-version").textContent = String(config.version);
    $("config-hash").textContent = config.sha256 ? "sha256 " + config.sha256.slice(0, 12) : "";
    $("config-loaded").textContent = ago(config.loadedAt, nowMillis);
    $("config-loaded").title = config.loadedAt;
    const r = config.reloads;
    $("config-reloads").textContent = r.applied + " applied · " + r.unchanged + " unchanged · " + r.invalid + " refused";
    const error = $("config-error");
    // A refusal matters until a later load succeeded.
    const current = config.lastError && Date.parse(config.lastError.at) >= Date.parse(config.loadedAt);
    error.hidden = !current;
    error.textContent = current
      ? "Refused " + ago(config.lastError.at, nowMillis) + ": " + config.lastError.message
        + ". The configuration loaded " + ago(config.loadedAt, nowMillis) + " still runs."
      : "";
    $("reload").hidden = !config.file;
  }

  async function reload() {
    const result = $("config-result");
    try {
      const response = await fetch("api/reload", {
        method: "POST", cache: "no-store", credentials: "same-origin",
        headers: { "Drawbridge-Admin-Action": "reload" },
      });
      const type = response.headers.get("Content-Type") || "";
      result.textContent = type.includes("json") ? (await response.json()).message : await response.text();
    } catch (e) {
      result.textContent = "The proxy did not answer the reload.";
    }
    result.hidden = false;
  }

  // ---- whole page --------------------------------------------------------------------------

  function verdict(report) {
    const node = $("verdict");
    const missing = report.backends.filter((b) => b.agents.length === 0).map((b) => "'" + b.id + "'");
    const queued = report.backends.reduce((n, b) => n + b.queueDepth, 0);
    if (report.phase === "leaving" || report.phase === "draining") {
      node.className = "verdict warn";
      node.textContent = report.phase === "leaving"
        ? "This node is leaving its load balancer: readiness answers 503 and it still takes work, for now."
        : "This node drains: its agents are told, new requests get 503, " + plural(report.liveExchanges, "request")
          + " still to finish before it can be stopped.";
    } else if (missing.length) {
      node.className = "verdict bad";
      node.textContent = "No agent is connected for backend " + missing.join(", ") + ": its requests cannot be answered.";
    } else if (report.backends.some((b) => b.queueDepth > 0 && b.oldestQueuedMillis >= 1000)) {
      node.className = "verdict warn";
      node.textContent = plural(queued, "request") + " waiting for a free agent.";
    } else {
      node.className = "verdict ok";
      node.textContent = "Tunnel healthy: every backend has an agent and nothing waits.";
    }
  }

  function render(report) {
    const nowMillis = Date.parse(report.now);
    document.body.classList.remove("disconnected", "connecting");
    setConnection("live", "Live");
    $("banner").hidden = true;
    $("updated").textContent = clock(new Date());
    $("uptime").textContent = duration(nowMillis - Date.parse(report.startedAt));
    $("live").textContent = number(report.liveExchanges);
    $("version").textContent = report.version;
    verdict(report);
    for (const backend of report.backends) renderBackend(backend, nowMillis);
    renderFailures(report.recentFailures, nowMillis);
    renderConfig(report.config, nowMillis);
  }

  function setConnection(state, text) {
    const pill = $("connection");
    pill.dataset.state = state;
    pill.textContent = text;
  }

  // When the proxy stops answering, the numbers on screen are no longer true: blank them so
  // nobody acts on a queue depth that stopped updating, and say since when.
  function disconnected(why, state) {
    document.body.classList.add("disconnected");
    document.body.classList.remove("connecting");
    setConnection(state || "disconnected", state === "unauthorised" ? "Not signed in" : "Disconnected");
    const since = lastSuccess ? "; last answer at " + clock(lastSuccess) : "";
    $("banner").textContent = why + since + ". Numbers are hidden until it answers again; retrying every second.";
    $("banner").hidden = false;
    $("verdict").className = "verdict bad";
    $("verdict").textContent = "Proxy not answering — the state of the tunnel is unknown.";
    for (const node of document.querySelectorAll(".tile .value")) node.textContent = "—";
    for (const node of document.querySelectorAll(".tile .sub[data-field], [data-field='healthText'], [data-field='agentCount']")) node.textContent = "";
    // Who is connected and what failed are as unknown as the numbers.
    for (const body of document.querySelectorAll("tbody")) body.replaceChildren();
    for (const wrap of document.querySelectorAll(".table-wrap")) wrap.hidden = true;
    for (const empty of document.querySelectorAll(".empty")) empty.hidden = true;
    $("config-error").hidden = true;
    for (const node of document.querySelectorAll(".tile")) node.classList.remove("warn", "bad");
    for (const node of document.querySelectorAll(".badge")) { node.className = "badge"; node.textContent = "unknown"; }
    for (const chart of document.querySelectorAll(".chart")) noData(chart, "disconnected");
    queueHistory.clear();
    $("live").textContent = "—";
    $("uptime").textContent = "—";
  }

  async function poll() {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MILLIS);
    try {
      const response = await fetch("api/status", { cache: "no-store", credentials: "same-origin", signal: abort.signal });
      if (response.status === 401 || response.status === 403) {
        disconnected("The proxy refused this login (HTTP " + response.status + "); reload the page to sign in", "unauthorised");
      } else if (!response.ok) {
        disconnected("The proxy answered HTTP " + response.status);
      } else {
        lastReport = await response.json();
        lastSuccess = new Date();
        render(lastReport);
      }
    } catch (e) {
      disconnected(e.name === "AbortError" ? "The proxy did not answer within " + TIMEOUT_MILLIS / 1000 + " s" : "The proxy is not answering");
    } finally {
      clearTimeout(timer);
      setTimeout(poll, POLL_MILLIS);
    }
  }

  $("reload").addEventListener("click", reload);
  poll();
})();
