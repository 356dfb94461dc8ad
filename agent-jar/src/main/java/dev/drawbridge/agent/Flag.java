package dev.drawbridge.agent;

import java.util.Locale;

/**
 * The agent's command-line flags. Each is also read from the environment variable {@link #env()};
 * a flag on the command line wins over its variable.
 */
enum Flag {
  PROXY(
      "URL[,URL...]",
      null,
      "Base URL of the Drawbridge proxy, including its context path (required). The agent attaches to every proxy node: to every address the host name resolves to, and to each URL of a comma-separated list."),
  TARGET(
      "URL",
      null,
      "Base URL of the backend to publish; a path here is put in front of every request path (required)."),
  BACKEND("ID", "default", "Backend id, configured on the proxy, that this agent serves."),
  ROUTE(
      "ID=URL",
      null,
      "Serve backend ID by forwarding to URL; repeat for several backends (one set of polls each), instead of --backend and --target. The variable takes a space-separated list."),
  TOKEN(
      "TOKEN",
      null,
      "Agent token for the backend; prefer --token-file, which keeps it out of the process list."),
  TOKEN_FILE("FILE", null, "File holding the agent token; surrounding whitespace is ignored."),
  AGENT_ID("ID", "<hostname>-<6 random hex digits>", "Name of this agent in the proxy's admin page and logs."),
  CONCURRENCY("N", "64", "Most requests handled at once; the agent never asks the proxy for more."),
  POLLS("N", "2", "Long polls kept open so that new requests are picked up at once (at most --concurrency)."),
  STREAMED_POLLS(
      "BOOL",
      "true",
      "Keep a poll's answer open and take requests from it as they arrive; the agent polls plainly by itself where something on the way holds the stream back. 'false' always polls plainly."),
  STREAMED_RESPONSES(
      "BOOL",
      "true",
      "Send small responses on a batch call kept open while they keep coming; the agent sends plain batch calls by itself where something on the way collects the stream whole. 'false' always sends plain batch calls."),
  KEEPALIVE_INTERVAL(
      "DURATION",
      "5s",
      "While a stream to the proxy (a slow response, a quiet WebSocket) has nothing to carry, send a keepalive this often, so the proxy's container, load balancers and NATs on the way do not cut it as idle; 0 sends none."),
  CONNECT_TIMEOUT("DURATION", "10s", "Longest wait to open a connection to the proxy or to the backend."),
  BACKEND_TIMEOUT(
      "DURATION", "60s", "Longest wait for the backend's response head, and between two reads of its body."),
  PROXY_TIMEOUT(
      "DURATION",
      "60s",
      "Longest wait for an answer from the proxy; must exceed the proxy's poll wait (pollWaitSeconds, 20 s by default)."),
  HOST_HEADER(
      "MODE",
      "preserve",
      "Host header the backend gets: 'preserve' passes the client's, 'rewrite' sends the target's host and port (X-Forwarded-Host carries the client's either way)."),
  DRAIN_TIMEOUT(
      "DURATION", "30s", "On SIGTERM, how long requests in flight may take to finish before the agent exits."),
  MAX_BACKOFF("DURATION", "30s", "Longest wait between two attempts to reconnect to the proxy."),
  HEALTH_PATH(
      "PATH",
      "none",
      "Path on the target checked with GET (2xx or 3xx is healthy); while it fails the agent takes no work and the proxy answers 503."),
  HEALTH_INTERVAL("DURATION", "5s", "Time between two backend health checks (with --health-path)."),
  RESOLVE_INTERVAL(
      "DURATION",
      "30s",
      "How often the --proxy host names are looked up again, to attach to new proxy nodes and let go of removed ones."),
  TRUST_STORE(
      "FILE",
      null,
      "PKCS12 or JKS trust store holding the CA certificates the proxy's TLS certificate must chain to, instead of the JVM's."),
  TRUST_STORE_PASSWORD("PASSWORD", null, "Password of --trust-store, if it has one."),
  ALLOW_INSECURE_HTTP(
      "BOOL",
      "false",
      "Allow a plain http:// proxy URL to a host that is not loopback; the token then crosses the network unencrypted."),
  EGRESS_PROXY(
      "URL",
      "https_proxy / http_proxy variable",
      "HTTP forward proxy (http://host:port) for every call to the proxy; 'none' goes direct even when https_proxy is set."),
  CONFIG_FILE(
      "FILE",
      null,
      "Properties file of flag values, keyed by flag name without the dashes (token-file=/etc/drawbridge/agent.token); flags and variables win over it."),
  LOG_LEVEL("LEVEL", "info", "Log detail: error, warn, info or debug (info logs one line per exchange, warn only problems).");

  private final String placeholder;
  private final String defaultText;
  private final String help;

  Flag(String placeholder, String defaultText, String help) {
    this.placeholder = placeholder;
    this.defaultText = defaultText;
    this.help = help;
  }

  /** The flag as typed, e.g. {@code --token-file}. */
  String flag() {
    return "--" + name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The environment variable, e.g. {@code DRAWBRIDGE_TOKEN_FILE}. */
  String env() {
    return "DRAWBRIDGE_" + name();
  }

  /** Name of the value in the usage text. */
  String placeholder() {
    return placeholder;
  }

  /** Default as shown in the usage text, or null when there is none. */
  String defaultText() {
    return defaultText;
  }

  /** One sentence of help. */
  String help() {
    return help;
  }

  /** True for the one flag that may be given several times. */
  boolean isRepeatable() {
    return this == ROUTE;
  }

  /** True for flags that may appear without a value ({@code --allow-insecure-http} means true). */
  boolean isSwitch() {
    return this == ALLOW_INSECURE_HTTP;
  }

  /** The flag spelled {@code --name}, or null. */
  static Flag byFlag(String text) {
    for (Flag flag : values()) {
      if (flag.flag().equals(text)) {
        return flag;
      }
    }
    return null;
  }
}
