package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import dev.drawbridge.protocol.Json;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Clients that go away before their answer. One that disconnects in the middle of its upload: the
 * service sees the body break off (it never gets a cut body as a whole one), nothing stays in
 * flight and the agent serves on.
 *
 * <p>One that disconnects while the agent is still waiting for the backend. The container tells
 * the proxy nothing until the proxy next writes to that client (Jetty does not watch a held
 * connection it is not reading); on Linux the proxy sees the closed connection in the kernel's
 * table within about a second ({@link AbandonedRequestsIT}), elsewhere the exchange ends when the
 * answer arrives and cannot be written, or at {@code responseTimeoutSeconds} at the latest. Either
 * way the agent is told to cancel, closes its backend call, and serves the next requests as before.
 */
@Timeout(300)
class ClientAbortIT {

  private static final int RESPONSE_TIMEOUT_SECONDS = 2;
  private static final Duration WAIT = Duration.ofSeconds(60);
  /** Slack for the reaper, the cancellation's trip to the agent and a loaded machine. */
  private static final Duration MARGIN = Duration.ofSeconds(30);
  /** Declared by the abandoned upload, which stops after {@link #SENT_BEFORE_LEAVING}. */
  private static final int DECLARED_BYTES = 1024 * 1024;
  /** Over the proxy's inline limit (64 KiB), so the body streams to the agent while it arrives. */
  private static final int SENT_BEFORE_LEAVING = 192 * 1024;

  private static TunnelFixture tunnel;
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final CountDownLatch release = new CountDownLatch(1);

  @BeforeAll
  static void startTunnel() {
    tunnel =
        TunnelFixture.start(
            config -> config.backendSetting("responseTimeoutSeconds", RESPONSE_TIMEOUT_SECONDS), List.of());
  }

  @AfterAll
  static void stopTunnel() {
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @AfterEach
  void releaseBackend() {
    release.countDown();
  }

  @Test
  void aClientGoneWhileTheBackendStallsIsReleasedAtTheResponseTimeoutAndTheBackendCallCancelled() throws Exception {
    CountDownLatch backendCallClosed = new CountDownLatch(1);
    tunnel.backend().respondTo("/stall", Responders.streamUntilPeerGone(release, 1L << 30, backendCallClosed));
    leaveWhileAtTheBackend("/stall");

    // The connection check or, at the latest, the response deadline ends the exchange.
    tunnel.awaitIdle(Duration.ofSeconds(RESPONSE_TIMEOUT_SECONDS).plus(MARGIN));
    assertNothingLeftAtTheAgent();

    // Only now does the backend answer: the agent closed that call when the proxy cancelled the
    // exchange, so the backend's first writes fail and its answer goes nowhere.
    release.countDown();
    assertTrue(
        backendCallClosed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS),
        "the agent closed its backend call once the proxy cancelled the exchange");
    assertTheAgentStillServes();
  }

  @Test
  void aClientGoneBeforeALongAnswerHasItDiscardedAndTheBackendStopped() throws Exception {
    CountDownLatch backendStopped = new CountDownLatch(1);
    tunnel.backend().respondTo("/late", Responders.streamUntilPeerGone(release, 1L << 30, backendStopped));
    leaveWhileAtTheBackend("/late");

    // The answer starts now; if the connection check has not ended the exchange yet, writing it to
    // the departed client fails, which does.
    release.countDown();

    tunnel.awaitIdle(WAIT);
    assertTrue(
        backendStopped.await(WAIT.toMillis(), TimeUnit.MILLISECONDS),
        "the agent stopped reading the backend's answer, so the backend's writes failed");
    assertNothingLeftAtTheAgent();
    assertTheAgentStillServes();
  }

  @ParameterizedTest(name = "chunked {0}")
  @ValueSource(booleans = {false, true})
  void aClientGoneMidUploadLeavesTheServiceACutBodyAndNothingInFlight(boolean chunked) throws Exception {
    String path = chunked ? "/abandoned/chunked" : "/abandoned/length";
    try (RawHttp leaving = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      tunnel.backend().drainBegun();
      leaving.beginUpload("/drawbridge" + path, tunnel.host(), chunked, DECLARED_BYTES, new byte[SENT_BEFORE_LEAVING]);
      // Leaves only once the service is receiving the upload: a client gone sooner may end the
      // exchange before the agent called the service at all, which leaves the service nothing.
      assertEquals(path, tunnel.backend().takeBegun(WAIT), "the upload reached the service");
      assertEquals(1, tunnel.status().backend(TunnelFixture.BACKEND_ID).inFlight(), "the upload is at the agent");
    }

    assertEquals(path, tunnel.backend().takeBrokenBody(WAIT), "the service saw the body break off");
    tunnel.awaitIdle(WAIT);
    assertEquals(List.of(), tunnel.backend().drainRequests(), "the service got no whole request");
    assertNothingLeftAtTheAgent();
    assertTheAgentStillServes();
  }

  /** Sends a GET for {@code path}, waits until the backend has it, then disconnects. */
  private static void leaveWhileAtTheBackend(String path) throws Exception {
    try (RawHttp leaving = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      leaving.write("GET /drawbridge" + path + " HTTP/1.1\r\nHost: " + tunnel.host() + "\r\n\r\n");
      assertEquals(path, tunnel.backend().takeRequest(WAIT).target());
      assertEquals(1, tunnel.status().backend(TunnelFixture.BACKEND_ID).inFlight(), "the request is at the agent");
    }
  }

  private static void assertNothingLeftAtTheAgent() {
    AdminStatus.BackendStatus backend = tunnel.status().backend(TunnelFixture.BACKEND_ID);
    assertEquals(1, backend.agents().size(), "the agent is still connected");
    assertEquals(0, backend.agents().get(0).inFlight(), "and holds nothing for the gone client");
  }

  private void assertTheAgentStillServes() throws Exception {
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> next =
          client.send(
              HttpRequest.newBuilder(tunnel.uri("/next/" + i)).timeout(WAIT).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, next.statusCode(), next::body);
      assertEquals("/next/" + i, Json.fromJson(next.body(), RecordedRequest.class).target());
      assertEquals("/next/" + i, tunnel.backend().takeRequest(WAIT).target());
    }
    tunnel.awaitIdle(WAIT);
  }
}
