package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The agent dies (SIGKILL) with an exchange in flight. Each test has its own proxy, so a dead
 * agent's leftovers never meet another test.
 */
@Timeout(300)
class AgentLossIT {

  private static final int POLL_WAIT_SECONDS = 2;
  private static final int AGENT_GRACE_SECONDS = 1;
  /**
   * When the client must have its answer, counted from the kill: the loss is due after the poll
   * wait and the grace; the rest is room for a starved machine, still well short of the 60 s
   * response timeout that would answer otherwise.
   */
  private static final Duration LOSS_BOUND =
      Duration.ofSeconds(POLL_WAIT_SECONDS + AGENT_GRACE_SECONDS).plus(Duration.ofSeconds(20));
  private static final Duration WAIT = Duration.ofSeconds(60);
  /** Far longer than the grace, so an answer within {@link #HANDOVER_BOUND} cannot come from the poll wait. */
  private static final int LONG_POLL_WAIT_SECONDS = 120;
  private static final Duration HANDOVER_BOUND = Duration.ofSeconds(AGENT_GRACE_SECONDS).plusSeconds(30);

  private final CountDownLatch releaseBackend = new CountDownLatch(1);
  private TunnelFixture tunnel;

  @BeforeEach
  void startTunnel() {
    tunnel = start(POLL_WAIT_SECONDS);
  }

  private static TunnelFixture start(int pollWaitSeconds) {
    return TunnelFixture.start(
        config -> config.set("pollWaitSeconds", pollWaitSeconds).set("agentGraceSeconds", AGENT_GRACE_SECONDS),
        List.of());
  }

  @AfterEach
  void stopTunnel() {
    releaseBackend.countDown();
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void agentKilledBeforeTheResponseHeadGives502() throws Exception {
    tunnel.backend().respondTo("/stall", Responders.stall());
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    CompletableFuture<HttpResponse<String>> pending =
        client.sendAsync(
            // POST: a request that may not be repeated is never given to a second agent.
            HttpRequest.newBuilder(tunnel.uri("/stall")).timeout(WAIT).POST(HttpRequest.BodyPublishers.ofString("once")).build(),
            HttpResponse.BodyHandlers.ofString());
    tunnel.backend().takeRequest(WAIT);

    tunnel.agent().kill();
    long killed = System.nanoTime();
    HttpResponse<String> clientResponse = pending.get(LOSS_BOUND.toMillis() + 1000, TimeUnit.MILLISECONDS);
    Duration elapsed = Duration.ofNanos(System.nanoTime() - killed);

    assertEquals(502, clientResponse.statusCode(), clientResponse::body);
    NoAgentIT.assertOneSentence(clientResponse.body());
    assertTrue(elapsed.compareTo(LOSS_BOUND) <= 0, () -> "502 came " + elapsed + " after the kill");
    tunnel.awaitIdle(WAIT);
  }

  /**
   * A killed agent's polls stay held: the container notices a dead peer only when it writes to it,
   * so the next requests are handed to them. Its poll had room for more, so a live agent would have
   * called again at once; this one does not, and is lost after the grace instead of after the long
   * poll wait. Its POST fails with 502, its GET goes to the other agent.
   */
  @Test
  void requestsHandedToAKilledAgentsWaitingPollsEndWithinTheGraceNotThePollWait() throws Exception {
    tunnel.close();
    tunnel = start(LONG_POLL_WAIT_SECONDS);
    await("the agent's polls are all held")
        .atMost(WAIT)
        .until(() -> tunnel.status().backend(TunnelFixture.BACKEND_ID).waitingPolls() == 3);
    tunnel.agent().kill();
    try (AgentProcess survivor =
        AgentProcess.connect(tunnel.proxy().baseUrl(), tunnel.backend().url(), TunnelFixture.BACKEND_ID, tunnel.token(), WAIT)) {
      await("the dead agent's polls are still held beside the survivor's")
          .atMost(WAIT)
          .until(() -> tunnel.status().backend(TunnelFixture.BACKEND_ID).waitingPolls() == 6);
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

      long sent = System.nanoTime();
      // The dead agent's polls are the oldest, so these two go to them.
      CompletableFuture<HttpResponse<String>> post =
          client.sendAsync(HttpRequest.newBuilder(tunnel.uri("/once")).timeout(WAIT).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
              HttpResponse.BodyHandlers.ofString());
      CompletableFuture<HttpResponse<String>> get =
          client.sendAsync(HttpRequest.newBuilder(tunnel.uri("/again")).timeout(WAIT).GET().build(), HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> postResponse = post.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      HttpResponse<String> getResponse = get.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      Duration elapsed = Duration.ofNanos(System.nanoTime() - sent);

      assertEquals(502, postResponse.statusCode(), postResponse::body);
      assertEquals(200, getResponse.statusCode(), getResponse::body);
      assertEquals("/again", tunnel.backend().takeRequest(WAIT).target(), "the GET reached the backend through the survivor");
      assertTrue(elapsed.compareTo(HANDOVER_BOUND) <= 0, () -> "answered " + elapsed + " after sending, not after the poll wait");
      tunnel.awaitIdle(WAIT);
    }
  }

  @Test
  void agentKilledMidBodyCutsTheClientsConnection() throws Exception {
    long sentBytes = 64 * 1024;
    CountDownLatch sent = new CountDownLatch(1);
    tunnel.backend().respondTo("/partial", Responders.partialThenHold(sentBytes, sent, releaseBackend));
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      client.write("GET /drawbridge/partial HTTP/1.1\r\nHost: " + tunnel.host() + "\r\n\r\n");
      RawHttp.Head head = client.readFinalHead();
      assertEquals(200, head.status());
      InputStream body = client.body(head, "GET");
      // Only the backend's side is awaited: whether the part already reached the client is
      // StreamingIT's concern, and a cut must happen either way.
      assertTrue(sent.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the backend sent part of the body");

      tunnel.agent().kill();
      long killed = System.nanoTime();
      IOException cut = assertThrows(IOException.class, body::readAllBytes, "a cut body must not end cleanly");
      Duration elapsed = Duration.ofNanos(System.nanoTime() - killed);

      assertFalse(cut instanceof SocketTimeoutException, "the connection was cut, not left silent: " + cut);
      assertTrue(elapsed.compareTo(LOSS_BOUND) <= 0, () -> "the cut came " + elapsed + " after the kill");
    }
    tunnel.awaitIdle(WAIT);
  }
}
