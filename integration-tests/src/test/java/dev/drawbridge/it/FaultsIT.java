package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.Responder;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Agent restarts and drains, proxy restarts, queue overflow: each with its client-visible outcome. */
@Timeout(300)
class FaultsIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final CountDownLatch releaseBackend = new CountDownLatch(1);
  private TunnelFixture tunnel;

  @AfterEach
  void stop() {
    releaseBackend.countDown();
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void aRestartedAgentTakesTrafficAgain() throws Exception {
    tunnel = TunnelFixture.start(config -> config.set("pollWaitSeconds", 2).set("agentGraceSeconds", 1), List.of());
    assertEquals(200, get("/before").statusCode());
    tunnel.agent().kill();
    tunnel.connectAgent(tunnel.backend().url(), List.of());
    // The proxy may still hand this GET to a held poll of the killed agent; the dead agent never
    // calls again, so it counts as lost after agentGraceSeconds and the GET goes to the new agent.
    assertEquals(200, get("/after").statusCode());
    tunnel.awaitIdle(WAIT);
  }

  @Test
  void agentsReconnectToAProxyRestartedOnTheSamePortWithoutDuplicates() throws Exception {
    tunnel = TunnelFixture.start(config -> config, List.of("--max-backoff", "1s"));
    assertEquals(200, get("/before").statusCode());
    int port = tunnel.proxy().port();

    tunnel.restartProxy();
    assertEquals(port, tunnel.proxy().port());
    tunnel.agent().awaitLine("Connected to proxy", WAIT);
    assertEquals(200, get("/after").statusCode());

    assertTrue(tunnel.agent().isAlive(), "the agent survived the restart");
    List<String> targets = new ArrayList<>();
    tunnel.backend().drainRequests().forEach(r -> targets.add(r.target()));
    assertEquals(List.of("/before", "/after"), targets, "each request reached the backend exactly once");
    long retries = tunnel.agent().lines().stream().filter(l -> l.contains("Lost connection to proxy")).count();
    assertTrue(retries <= 3, () -> "no reconnect storm: " + retries + " lost-connection lines");
  }

  @Test
  void aFullQueueAnswers503WithRetryAfterAtOnce() throws Exception {
    tunnel =
        TunnelFixture.startWithoutAgent(
            // Queued requests wait far longer than this test may run: an answer proves a refusal.
            config -> config.backendSetting("maxQueued", 2).backendSetting("queueTimeoutSeconds", 3600)
                .set("retryAfterSeconds", 4));
    List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      held.add(client.sendAsync(request("/held-" + i), HttpResponse.BodyHandlers.ofString()));
    }
    await("two requests queued").atMost(WAIT).until(() -> tunnel.status().totalQueued() == 2);

    HttpResponse<String> refused = get("/one-too-many");

    assertEquals(503, refused.statusCode(), refused::body);
    assertEquals("4", refused.headers().firstValue("Retry-After").orElse("(none)"));
    assertEquals("The queue for backend 'default' is full; retry shortly.", refused.body().strip());
    assertEquals(2, tunnel.status().totalQueued(), "the refused request was never queued");
    held.forEach(h -> h.cancel(true));
  }

  @Test
  void anAgentStoppedWithSigtermFinishesItsRequestAndExitsZero() throws Exception {
    tunnel = TunnelFixture.start();
    CountDownLatch arrived = new CountDownLatch(1);
    Responder slow =
        (request, response, callback) -> {
          arrived.countDown();
          assertTrue(releaseBackend.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
          Responders.fixed(200, "text/plain", "finished").respond(request, response, callback);
        };
    tunnel.backend().respondTo("/slow", slow);
    CompletableFuture<HttpResponse<String>> pending =
        client.sendAsync(request("/slow"), HttpResponse.BodyHandlers.ofString());
    assertTrue(arrived.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));

    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> tunnel.agent().stop(WAIT));
    // The agent's drain log lines are lost (JUL resets its handlers in its own shutdown hook), so
    // the test cannot wait for them; released early, the request must still complete.
    releaseBackend.countDown();

    HttpResponse<String> clientResponse = pending.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertEquals(200, clientResponse.statusCode(), clientResponse::body);
    assertEquals("finished", clientResponse.body());
    assertEquals(0, exit.get(WAIT.toMillis(), TimeUnit.MILLISECONDS), "a drained agent exits 0");
  }

  private HttpRequest request(String path) {
    return HttpRequest.newBuilder(tunnel.uri(path)).timeout(WAIT).GET().build();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return client.send(request(path), HttpResponse.BodyHandlers.ofString());
  }
}
