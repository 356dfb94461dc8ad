package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.EarlyAnsweringService;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.TunnelFixture;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A service that answers an upload before reading it (a 401 to a client that is not signed in, a
 * 413 to a file too large) gets its answer to the client while the client is still uploading, as
 * through nginx: the client need not send the rest first, and curl, browsers and most HTTP
 * libraries stop there. A client that sends all of its body anyway gets the answer after it, on a
 * connection it can go on using.
 */
@Timeout(300)
class EarlyAnswerIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  /** Far more than any client here sends. */
  private static final long DECLARED = 64L * 1024 * 1024 * 1024;
  /** Where a client stops sending if no answer came yet, and waits for it. */
  private static final long SENT_AT_MOST = 64L * 1024 * 1024;
  /** Bounds what reaches the service after its answer: what was on its way before the agent saw it. */
  private static final long MAX_AFTER_ANSWER = 64L * 1024 * 1024;

  private TunnelFixture tunnel;
  private EarlyAnsweringService service;

  @BeforeEach
  void start() {
    service = EarlyAnsweringService.start(WAIT);
    // No body limit: the uploads here declare more than the default 100 MiB, to be answered early.
    tunnel = TunnelFixture.startWithoutAgent(config -> config.set("maxRequestBodyBytes", 0));
    tunnel.connectAgent(service.url(), List.of());
  }

  @AfterEach
  void stop() {
    if (tunnel != null) {
      tunnel.close();
    }
    service.close();
  }

  @Test
  void anUploadWithALengthGetsTheAnswerWhileItIsStillSending() throws Exception {
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      client.write("PUT /drawbridge/files/big.iso HTTP/1.1\r\nHost: " + tunnel.host()
          + "\r\nContent-Type: application/octet-stream\r\nContent-Length: " + DECLARED + "\r\n\r\n");
      assertAnsweredWhileSending(client, false);
    }
    assertTheRestWasNotRelayed();
    tunnel.awaitIdle(WAIT);
  }

  @Test
  void aChunkedUploadGetsTheAnswerWhileItIsStillSending() throws Exception {
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      client.write("POST /drawbridge/files HTTP/1.1\r\nHost: " + tunnel.host()
          + "\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
      assertAnsweredWhileSending(client, true);
    }
    assertTheRestWasNotRelayed();
    tunnel.awaitIdle(WAIT);
  }

  /**
   * A client that sends its whole body before it reads (Python's http.client, many scripts) gets
   * the answer once it is done, and the connection stays usable: the proxy read the rest of the
   * body and dropped it, and the service never saw it.
   */
  @Test
  void aClientThatSendsEverythingFirstGetsTheAnswerAndKeepsItsConnection() throws Exception {
    int length = 8 * 1024 * 1024;
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      client.write("PUT /drawbridge/files/all HTTP/1.1\r\nHost: " + tunnel.host()
          + "\r\nContent-Length: " + length + "\r\n\r\n");
      byte[] piece = new byte[64 * 1024];
      for (int sent = 0; sent < length; sent += piece.length) {
        client.write(piece);
      }
      assertAnswered(client.readResponse("PUT"));
      assertTheRestWasNotRelayed();
      assertAnswered(client.exchange("GET", "/drawbridge/files", tunnel.host(), List.of()));
    }
    assertTheRestWasNotRelayed();
    tunnel.awaitIdle(WAIT);
  }

  /** A client that stops sending after the answer does not hold its connection open for ever. */
  @Test
  void aClientThatStopsSendingAfterTheAnswerIsLetGo() throws Exception {
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      client.write("PUT /drawbridge/files/stalled HTTP/1.1\r\nHost: " + tunnel.host()
          + "\r\nContent-Length: " + DECLARED + "\r\n\r\n");
      assertAnsweredWhileSending(client, false);
      // Within the proxy's 30 s for the rest of a body, or the container's own idle timeout.
      assertTrue(client.peerClosed(), "the proxy kept the connection after the answer");
    }
    assertTheRestWasNotRelayed();
    tunnel.awaitIdle(WAIT);
  }

  /** One upload answered early leaves the tunnel as it was: the next request gets through. */
  @Test
  void theTunnelCarriesTheNextRequestAfterAnEarlyAnswer() throws Exception {
    for (int i = 0; i < 3; i++) {
      try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
        client.write("PUT /drawbridge/files/" + i + " HTTP/1.1\r\nHost: " + tunnel.host()
            + "\r\nContent-Length: " + DECLARED + "\r\n\r\n");
        assertAnsweredWhileSending(client, false);
      }
      assertTheRestWasNotRelayed();
    }
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      assertAnswered(client.exchange("GET", "/drawbridge/files", tunnel.host(), List.of()));
    }
    tunnel.awaitIdle(WAIT);
  }

  /**
   * Uploads until the answer comes, stopping short of the declared length: an answer that waited
   * for the whole body would never come.
   */
  private static void assertAnsweredWhileSending(RawHttp client, boolean chunked) throws Exception {
    assertAnswered(EarlyAnsweringService.uploadUntilAnswered(client, SENT_AT_MOST, chunked, WAIT).response());
  }

  private static void assertAnswered(RawHttp.Response response) {
    assertEquals(401, response.status(), response::bodyText);
    assertEquals(EarlyAnsweringService.ANSWER, response.bodyText());
  }

  /** The agent stopped sending the body to the service once it saw the answer. */
  private void assertTheRestWasNotRelayed() throws InterruptedException {
    long read = service.readAfterAnswer(WAIT);
    assertTrue(read <= MAX_AFTER_ANSWER, () -> read + " body bytes reached the service after its answer");
  }
}
