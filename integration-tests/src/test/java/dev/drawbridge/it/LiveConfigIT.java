package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.CheckedTraffic;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.Tokens;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Configuration changes while traffic flows, with the real WAR, real agent processes and real
 * backends. Steady traffic to the first backend runs through every change, and each of its
 * requests must come back as its own echo: a reload may never fail a request it does not concern.
 */
@Timeout(240)
class LiveConfigIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String OLD_TOKEN = Tokens.random();
  private static final String NEW_TOKEN = Tokens.random();

  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();
  private final List<AutoCloseable> started = new ArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);
  private ProxyServer proxy;
  private CheckedTraffic traffic;

  @AfterEach
  void stopAll() throws Exception {
    if (traffic != null) {
      traffic.close();
    }
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).close();
    }
  }

  @Test
  void everyKindOfChangeAppliesWhileTrafficFlowsAndFailsNoOtherRequest() throws Exception {
    Backend main = backend();
    Backend wiki = backend();
    startProxy(config(List.of("default")));
    agent(main, "default", List.of("--token", OLD_TOKEN));
    traffic = CheckedTraffic.start(proxy.baseUrl(), "/load", "/load", 3);
    traffic.awaitMore(20, WAIT);

    // Added backend and routes: the very next request takes the new route, and waits for the
    // new backend's agent rather than going anywhere else.
    assertEquals("APPLIED", reload(config(List.of("default", "wiki", "spare"))
        .set("routes", List.of(
            Map.of("pathPrefix", "/wiki", "stripPrefix", true, "backend", "wiki"),
            Map.of("pathPrefix", "/spare", "backend", "spare"),
            Map.of("pathPrefix", "/", "backend", "default")))).get("result"));
    CompletableFuture<HttpResponse<String>> first = client.sendAsync(get("/wiki/page"), HttpResponse.BodyHandlers.ofString());
    AgentProcess wikiAgent = agent(wiki, "wiki", List.of("--token", OLD_TOKEN, "--max-backoff", "1s"));
    assertEquals(200, first.get(WAIT.toSeconds(), TimeUnit.SECONDS).statusCode());
    assertEquals("/page", wiki.takeRequest(WAIT).target());
    traffic.awaitMore(20, WAIT);

    // Changed routes and limits: new requests see them at once.
    wiki.respondTo("/stream", Responders.sse(List.of("one"), release, List.of("two")));
    assertEquals("APPLIED", reload(config(List.of("default", "wiki", "spare"))
        .backendSetting("maxQueued", 5)
        .set("routes", List.of(
            Map.of("pathPrefix", "/closed", "deny", List.of("127.0.0.0/8"), "backend", "default"),
            Map.of("pathPrefix", "/wiki", "stripPrefix", true, "backend", "wiki"),
            Map.of("pathPrefix", "/spare", "backend", "spare"),
            Map.of("pathPrefix", "/", "backend", "default")))).get("result"));
    assertEquals(403, send("/closed/x").statusCode());
    traffic.awaitMore(20, WAIT);

    // A removed backend: its queued request gets 503 with Retry-After at once, its streaming
    // response finishes within the drain grace, its agent is told; the others go on untouched.
    HttpResponse<InputStream> stream = client.send(get("/wiki/stream"), HttpResponse.BodyHandlers.ofInputStream());
    BufferedReader events = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
    assertEquals("data: one", events.readLine());
    CompletableFuture<HttpResponse<String>> queued = client.sendAsync(get("/spare/x"), HttpResponse.BodyHandlers.ofString());
    await("the spare request queued").atMost(WAIT).until(() -> AdminStatus.read(proxy.baseUrl()).backend("spare").queueDepth() == 1);
    wikiAgent.skipPrinted();

    assertEquals("APPLIED", reload(config(List.of("default"))).get("result"));

    HttpResponse<String> refused = queued.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(503, refused.statusCode());
    assertTrue(refused.headers().firstValue("Retry-After").isPresent());
    assertTrue(refused.body().contains("removed from the proxy's configuration"), refused.body());
    wikiAgent.awaitLine("no longer serves backend wiki", WAIT);
    release.countDown();
    events.readLine();
    assertEquals("data: two", events.readLine(), "the stream in flight finished");
    assertEquals(null, skipBlank(events), "and ended normally");
    assertEquals(200, send("/wiki/y").statusCode(), "without the route, /wiki goes to the first backend");
    traffic.awaitMore(20, WAIT);

    assertNoFailedRequest();
  }

  @Test
  void anInvalidOrCutShortFileLeavesTheRunningConfiguration() throws Exception {
    Backend main = backend();
    startProxy(config(List.of("default")));
    agent(main, "default", List.of("--token", OLD_TOKEN));
    traffic = CheckedTraffic.start(proxy.baseUrl(), "/load", "/load", 3);
    Path file = proxy.configFile();
    String valid = config(List.of("default", "extra")).toJson();

    // A typo in a key: refused, named in the status with file and key, nothing else changes.
    Files.writeString(file, valid.replace("\"agentTokenSha256\"", "\"agentTokenSha265\""));
    AdminStatus.ConfigError error = awaitRefusal(1);
    assertTrue(error.message().startsWith(file.toString() + ": "), error.message());
    assertTrue(error.message().contains("agentTokenSha265"), error.message());
    traffic.awaitMore(20, WAIT);

    // Cut short while written in place, as by a writer that died: refused, the old one runs.
    long refusedSoFar = status().config().reloads().get("invalid");
    try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      out.write(valid.substring(0, valid.length() / 2).getBytes(StandardCharsets.UTF_8));
    }
    awaitRefusal(refusedSoFar + 1);
    assertEquals(1, status().config().version());
    assertEquals(1, status().backends().size());
    traffic.awaitMore(20, WAIT);

    // Cut short, then moved into place whole (write-then-rename): refused just the same.
    refusedSoFar = status().config().reloads().get("invalid");
    Path partial = Files.writeString(file.resolveSibling("drawbridge.json.partial"), valid.substring(0, valid.length() - 3));
    Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    awaitRefusal(refusedSoFar + 1);
    assertEquals(1, status().config().version());
    traffic.awaitMore(20, WAIT);

    // The whole file, written then renamed: applied by the watcher, no call needed.
    Path whole = Files.writeString(file.resolveSibling("drawbridge.json.next"), valid);
    Files.move(whole, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    await("the watcher applied the whole file").atMost(WAIT).until(() -> status().config().version() == 2);
    assertEquals(2, status().backends().size());
    traffic.awaitMore(20, WAIT);

    assertNoFailedRequest();
  }

  @Test
  void rotatingTheTokenAgentByAgentFailsNoRequest() throws Exception {
    Backend main = backend();
    Backend other = backend();
    startProxy(rotation(List.of(OLD_TOKEN), List.of(OLD_TOKEN)));
    Path firstToken = tokenFile("first.token", OLD_TOKEN);
    Path secondToken = tokenFile("second.token", OLD_TOKEN);
    agent(main, "default", List.of("--token-file", firstToken.toString(), "--agent-id", "first"));
    agent(main, "default", List.of("--token-file", secondToken.toString(), "--agent-id", "second"));
    // An agent nobody moves, on a backend without traffic: it shows what revoking does.
    AgentProcess forgotten = agent(other, "other", List.of("--token", OLD_TOKEN, "--agent-id", "forgotten"));
    traffic = CheckedTraffic.start(proxy.baseUrl(), "/load", "/load", 3);
    traffic.awaitMore(20, WAIT);

    // 1. List both digests. 2. Move the agents one by one. 3. Remove the old digest.
    assertEquals("APPLIED", reload(rotation(List.of(OLD_TOKEN, NEW_TOKEN), List.of(OLD_TOKEN))).get("result"));
    for (Path tokenFile : List.of(firstToken, secondToken)) {
      Path next = Files.writeString(tokenFile.resolveSibling(tokenFile.getFileName() + ".next"), NEW_TOKEN + "\n");
      Files.move(next, tokenFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      String agentId = tokenFile.getFileName().toString().replace(".token", "");
      await(agentId + " calls with the new token").atMost(WAIT).until(() -> fingerprint(agentId).equals(
          Tokens.sha256Hex(NEW_TOKEN).substring(0, 12)));
      traffic.awaitMore(20, WAIT);
    }
    forgotten.skipPrinted();
    assertEquals("APPLIED", reload(rotation(List.of(NEW_TOKEN), List.of(NEW_TOKEN))).get("result"));

    // The agent left on the old token: its held polls end at once, and its next call is refused.
    forgotten.awaitLine("rejected the agent token", Duration.ofSeconds(10));
    traffic.awaitMore(50, WAIT);
    assertNoFailedRequest();
    AdminStatus.BackendStatus backend = status().backend("default");
    assertEquals(2, backend.agents().size(), backend.toString());
    assertTrue(backend.agents().stream()
        .allMatch(a -> a.token().equals(Tokens.sha256Hex(NEW_TOKEN).substring(0, 12))), backend.toString());
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** Backend "default" accepting {@code defaultTokens}, backend "other" accepting {@code otherTokens}. */
  private static ProxyConfig rotation(List<String> defaultTokens, List<String> otherTokens) {
    return new ProxyConfig()
        .backend("default", defaultTokens.stream().map(Tokens::sha256Hex).toArray(String[]::new))
        .backend("other", otherTokens.stream().map(Tokens::sha256Hex).toArray(String[]::new));
  }

  private ProxyConfig config(List<String> backends) {
    ProxyConfig config = new ProxyConfig();
    for (String id : backends) {
      config.backend(id, Tokens.sha256Hex(OLD_TOKEN));
    }
    return config.set("drainGraceSeconds", 10);
  }

  private Backend backend() {
    Backend backend = Backend.start();
    started.add(backend);
    return backend;
  }

  private void startProxy(ProxyConfig config) {
    proxy = ProxyServer.start(config);
    started.add(proxy);
  }

  private AgentProcess agent(Backend target, String backendId, List<String> tokenFlags) {
    List<String> flags = new ArrayList<>(List.of("--proxy", proxy.baseUrl(), "--target", target.url(), "--backend", backendId));
    flags.addAll(tokenFlags);
    AgentProcess agent = AgentProcess.start(flags);
    started.add(agent);
    agent.awaitLine(AgentProcess.CONNECTED, WAIT);
    return agent;
  }

  private Path tokenFile(String name, String token) throws Exception {
    return Files.writeString(proxy.configFile().resolveSibling(name), token + "\n");
  }

  /** Writes {@code config} and asks the proxy to apply it: the admin API's reload call. */
  private Map<String, Object> reload(ProxyConfig config) throws Exception {
    Files.writeString(proxy.configFile(), config.toJson());
    HttpResponse<String> response = client.send(
        HttpRequest.newBuilder(URI.create(proxy.baseUrl() + "/_drawbridge/admin/api/reload"))
            .timeout(WAIT)
            .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                (ProxyServer.ADMIN_USER + ":" + ProxyServer.ADMIN_PASSWORD).getBytes(StandardCharsets.UTF_8)))
            .header("Drawbridge-Admin-Action", "reload")
            .POST(HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
    assertTrue(response.statusCode() == 200 || response.statusCode() == 422, response.statusCode() + ": " + response.body());
    jakarta.json.JsonObject answer;
    try (var reader = jakarta.json.Json.createReader(new java.io.StringReader(response.body()))) {
      answer = reader.readObject();
    }
    String result = answer.getString("result");
    // The watcher may have applied the file first; then the call finds it unchanged.
    return Map.of("result", result.equals("UNCHANGED") ? "APPLIED" : result, "message", answer.getString("message"));
  }

  private AdminStatus status() {
    return AdminStatus.read(proxy.baseUrl());
  }

  private AdminStatus.ConfigError awaitRefusal(long refusals) {
    await("refusal " + refusals).atMost(WAIT).until(() -> status().config().reloads().get("invalid") >= refusals);
    return status().config().lastError();
  }

  private String fingerprint(String agentId) {
    return status().backend("default").agents().stream()
        .filter(agent -> agent.id().equals(agentId))
        .map(agent -> String.valueOf(agent.token()))
        .findFirst()
        .orElse("");
  }

  private HttpRequest get(String path) {
    return HttpRequest.newBuilder(URI.create(proxy.baseUrl() + path)).timeout(WAIT).build();
  }

  private HttpResponse<String> send(String path) throws Exception {
    return client.send(get(path), HttpResponse.BodyHandlers.ofString());
  }

  private static String skipBlank(BufferedReader reader) throws Exception {
    String line = reader.readLine();
    while (line != null && line.isEmpty()) {
      line = reader.readLine();
    }
    return line;
  }

  private void assertNoFailedRequest() throws Exception {
    traffic.close();
    assertEquals(List.of(), traffic.failures());
    assertTrue(traffic.succeeded() > 50, "traffic flowed: " + traffic.succeeded());
  }
}
