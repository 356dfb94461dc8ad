package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Responder;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TcpRelay;
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

/**
 * The network path between agent and proxy fails, through a {@link TcpRelay} the agent connects
 * through: a stall (bytes stop, nothing closes) and a cut (every connection reset). Clients get the
 * documented status within the documented bounds, the agent notices through its own timeouts,
 * reconnects once the path works again, and later requests go through.
 */
@Timeout(300)
class NetworkFaultIT {

  private static final int POLL_WAIT_SECONDS = 1;
  private static final int AGENT_GRACE_SECONDS = 1;
  private static final int QUEUE_TIMEOUT_SECONDS = 4;
  private static final int RETRY_AFTER_SECONDS = 2;
  /** The agent's --proxy-timeout: longest it waits for the proxy; well above the poll wait. */
  private static final Duration PROXY_TIMEOUT = Duration.ofSeconds(5);
  /** Slack for the reaper, process scheduling and a loaded machine. */
  /** Beyond each deadline, for a starved machine. */
  private static final Duration MARGIN = Duration.ofSeconds(20);
  private static final Duration WAIT = Duration.ofSeconds(60);

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final CountDownLatch releaseBackend = new CountDownLatch(1);
  private TunnelFixture tunnel;
  private TcpRelay relay;
  private AgentProcess agent;

  @AfterEach
  void stop() {
    releaseBackend.countDown();
    if (agent != null) {
      agent.close();
    }
    if (relay != null) {
      relay.close();
    }
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void aStalledPathLosesTheAgentAndItsClientsGetTheirStatusUntilItComesBack() throws Exception {
    startBehindRelay();
    tunnel.backend().respondTo("/held", heldUntilReleased());
    assertEquals(200, get("/before").statusCode());
    assertEquals("/before", tunnel.backend().takeRequest(WAIT).target());
    CompletableFuture<HttpResponse<String>> atAgent = send("POST", "/held");
    assertEquals("/held", tunnel.backend().takeRequest(WAIT).target());

    agent.skipPrinted();
    relay.stall();
    long stalled = System.nanoTime();
    CompletableFuture<HttpResponse<String>> queued = send("GET", "/during");
    // The backend answers now; the agent's upload of that answer sinks into the stalled path.
    releaseBackend.countDown();

    // The agent's last call came before the stall: it is lost pollWaitSeconds + agentGraceSeconds
    // later, and a POST it was serving cannot be given to another agent.
    HttpResponse<String> lost = atAgent.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    Duration lostAfter = Duration.ofNanos(System.nanoTime() - stalled);
    assertEquals(502, lost.statusCode(), lost::body);
    assertEquals("The agent serving this request was lost before it answered.", lost.body().strip());
    assertWithin(lostAfter, Duration.ofSeconds(POLL_WAIT_SECONDS + AGENT_GRACE_SECONDS).plus(MARGIN));
    // A request sent during the stall waits for an agent, then gets 503 at its queue deadline.
    HttpResponse<String> refused = queued.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    Duration refusedAfter = Duration.ofNanos(System.nanoTime() - stalled);
    assertEquals(503, refused.statusCode(), refused::body);
    assertEquals(Integer.toString(RETRY_AFTER_SECONDS), refused.headers().firstValue("Retry-After").orElse("(none)"));
    assertWithin(refusedAfter, Duration.ofSeconds(QUEUE_TIMEOUT_SECONDS).plus(MARGIN));
    // The agent notices on its own: no answer within --proxy-timeout.
    agent.awaitLine("Lost connection to proxy", PROXY_TIMEOUT.plus(MARGIN));

    relay.resume();
    agent.awaitLine(AgentProcess.CONNECTED, WAIT);
    assertEquals(200, get("/after").statusCode());
    tunnel.awaitIdle(WAIT);
  }

  @Test
  void aCutPathIsNoticedAtOnceAndTheAnswerInFlightStillArrivesOverANewConnection() throws Exception {
    startBehindRelay();
    tunnel.backend().respondTo("/held", heldUntilReleased());
    assertEquals(200, get("/before").statusCode());
    assertEquals("/before", tunnel.backend().takeRequest(WAIT).target());
    CompletableFuture<HttpResponse<String>> atAgent = send("POST", "/held");
    assertEquals("/held", tunnel.backend().takeRequest(WAIT).target());

    agent.skipPrinted();
    relay.cut();
    agent.awaitLine("Lost connection to proxy .*: .*reset", MARGIN);

    // The agent kept the request it was serving; its answer goes out on a new connection, since
    // the failed poll made it drop the idle ones the cut had killed too.
    releaseBackend.countDown();
    HttpResponse<String> answered = atAgent.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertEquals(200, answered.statusCode(), answered::body);
    assertEquals("finished", answered.body());

    // The polls the cut killed run out when the poll wait ends: Tomcat notices the reset at once,
    // embedded Jetty only then. Until then a request handed to one of them is lost to the agent on
    // Jetty (see the reliability table), so later requests are sent once the proxy holds no more
    // polls than the agent keeps: two asking for work and one listening.
    agent.awaitLine(AgentProcess.CONNECTED, WAIT);
    await("the polls the cut killed ran out")
        .pollDelay(Duration.ofSeconds(POLL_WAIT_SECONDS).plusMillis(500))
        .atMost(WAIT)
        .until(() -> tunnel.status().backend(TunnelFixture.BACKEND_ID).waitingPolls() <= 3);
    List<CompletableFuture<HttpResponse<String>>> later = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      later.add(send("GET", "/after-" + i));
    }
    for (CompletableFuture<HttpResponse<String>> response : later) {
      HttpResponse<String> done = response.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertEquals(200, done.statusCode(), done::body);
    }
    tunnel.awaitIdle(WAIT);
  }

  private void startBehindRelay() {
    tunnel =
        TunnelFixture.startWithoutAgent(
            config ->
                config
                    .set("pollWaitSeconds", POLL_WAIT_SECONDS)
                    .set("agentGraceSeconds", AGENT_GRACE_SECONDS)
                    .set("retryAfterSeconds", RETRY_AFTER_SECONDS)
                    .backendSetting("queueTimeoutSeconds", QUEUE_TIMEOUT_SECONDS));
    relay = TcpRelay.start(tunnel.proxy().port());
    List<String> flags =
        new ArrayList<>(
            AgentProcess.flags(
                "http://127.0.0.1:" + relay.port() + "/drawbridge",
                tunnel.backend().url(),
                TunnelFixture.BACKEND_ID,
                tunnel.token()));
    flags.addAll(
        List.of("--proxy-timeout", PROXY_TIMEOUT.toSeconds() + "s", "--connect-timeout", "2s", "--max-backoff", "1s"));
    agent = AgentProcess.start(flags);
    agent.awaitLine(AgentProcess.CONNECTED, WAIT);
  }

  private Responder heldUntilReleased() {
    return (request, response, callback) -> {
      if (releaseBackend.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        Responders.fixed(200, "text/plain", "finished").respond(request, response, callback);
      } else {
        callback.failed(new IllegalStateException("the test never released the backend"));
      }
    };
  }

  private static void assertWithin(Duration elapsed, Duration bound) {
    assertTrue(elapsed.compareTo(bound) <= 0, () -> "took " + elapsed + ", bound " + bound);
  }

  private CompletableFuture<HttpResponse<String>> send(String method, String path) {
    HttpRequest.BodyPublisher body =
        method.equals("GET") ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString("body of " + path);
    return client.sendAsync(
        HttpRequest.newBuilder(tunnel.uri(path)).timeout(WAIT).method(method, body).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String path) throws Exception {
    return send("GET", path).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }
}
