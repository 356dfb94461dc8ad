package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Responses that stream: Server-Sent Events reach the client while the backend is still writing,
 * and a client that leaves mid-stream frees its exchange and makes the agent close the backend's
 * connection.
 */
@Timeout(300)
class StreamingIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  /** How long freeing an exchange and cancelling the backend call may take after the client left. */
  private static final Duration CLEANUP_BOUND = Duration.ofSeconds(60);

  private static TunnelFixture tunnel;

  @BeforeAll
  static void startTunnel() {
    tunnel = TunnelFixture.start();
  }

  @AfterAll
  static void stopTunnel() {
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void firstServerSentEventArrivesBeforeTheBackendFinishes() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    tunnel.backend().respondTo("/events", Responders.sse(List.of("first"), release, List.of("second")));
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      client.write("GET /drawbridge/events HTTP/1.1\r\nHost: " + tunnel.host() + "\r\nAccept: text/event-stream\r\n\r\n");
      RawHttp.Head head = client.readFinalHead();
      assertEquals(200, head.status());
      assertEquals("text/event-stream", head.header("Content-Type").orElse("(none)"));
      try (BufferedReader events =
          new BufferedReader(new InputStreamReader(client.body(head, "GET"), StandardCharsets.UTF_8))) {
        // The backend is parked on the latch: this line can only come from a streaming tunnel.
        assertEquals("data: first", events.readLine());
        assertEquals(1, release.getCount(), "the backend is still held");
        release.countDown();
        assertEquals("", events.readLine());
        assertEquals("data: second", events.readLine());
        assertEquals("", events.readLine());
        assertEquals(null, events.readLine(), "the stream ends cleanly after the backend finished");
      }
    } finally {
      release.countDown();
    }
    tunnel.backend().takeRequest(WAIT);
    tunnel.awaitIdle(CLEANUP_BOUND);
  }

  @Test
  void clientLeavingMidStreamFreesTheExchangeAndClosesTheBackendCall() throws Exception {
    CountDownLatch backendConnectionClosed = new CountDownLatch(1);
    tunnel
        .backend()
        .respondTo(
            "/endless",
            Responders.sseUntilPeerGone(List.of("hello"), Duration.ofMillis(100), backendConnectionClosed));
    RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT);
    try {
      client.write("GET /drawbridge/endless HTTP/1.1\r\nHost: " + tunnel.host() + "\r\n\r\n");
      RawHttp.Head head = client.readFinalHead();
      assertEquals(200, head.status());
      InputStream body = client.body(head, "GET");
      BufferedReader events = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
      assertEquals("data: hello", events.readLine());
      tunnel.backend().takeRequest(WAIT);
      assertEquals(1, tunnel.status().liveExchanges(), "the stream is live before the client leaves");
    } finally {
      client.close();
    }

    tunnel.awaitIdle(CLEANUP_BOUND);
    assertTrue(
        backendConnectionClosed.await(CLEANUP_BOUND.toMillis(), TimeUnit.MILLISECONDS),
        "the agent closed the backend's connection after the client left");
  }
}
