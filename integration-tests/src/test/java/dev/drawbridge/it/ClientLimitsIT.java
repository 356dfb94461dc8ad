package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.TunnelFixture;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a client cannot push through: bodies over {@code maxRequestBodyBytes} (declared or
 * chunked) get 413, and a request framed two ways at once never reaches the backend as two.
 */
@Timeout(300)
class ClientLimitsIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int LIMIT = 1000;

  private static TunnelFixture tunnel;

  @BeforeAll
  static void startTunnel() {
    tunnel = TunnelFixture.start(config -> config.set("maxRequestBodyBytes", LIMIT), List.of());
  }

  @AfterAll
  static void stopTunnel() {
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @BeforeEach
  void forgetEarlierRequests() {
    tunnel.backend().drainRequests();
  }

  @Test
  void aDeclaredBodyOverTheLimitIs413BeforeAnythingIsForwarded() throws Exception {
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      client.write("POST /drawbridge/upload HTTP/1.1\r\nHost: " + tunnel.host() + "\r\nContent-Length: " + (LIMIT + 1)
          + "\r\n\r\n" + "x".repeat(LIMIT + 1));
      RawHttp.Response response = client.readResponse("POST");
      assertEquals(413, response.status());
      assertEquals(
          "The request body of " + (LIMIT + 1) + " bytes exceeds the limit of " + LIMIT + " bytes.",
          response.bodyText().trim());
    }
    assertEquals(List.of(), tunnel.backend().drainRequests(), "nothing reached the backend");
  }

  /**
   * A client that asks before uploading hears 413 at once, with no 100 inviting the upload, and
   * hears 100 for a body the proxy takes. (The same on a real Tomcat with tomcat-conf:
   * ContainerTunnelIT.)
   */
  @Test
  void expectContinueIsAnsweredWith413ForABodyOverTheLimitAnd100ForOneWithin() throws Exception {
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      client.write("POST /drawbridge/too-large HTTP/1.1\r\nHost: " + tunnel.host() + "\r\nContent-Length: " + (LIMIT + 1)
          + "\r\nExpect: 100-continue\r\n\r\n");
      RawHttp.Head head = client.readHead();
      assertEquals(413, head.status(), () -> "the first answer: " + head);
      // Refused before any exchange started, yet named, as every answer is, for the access log.
      assertTrue(head.header("Drawbridge-Exchange-Id").isPresent(), () -> "an exchange id: " + head);
    }
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      client.write("POST /drawbridge/within HTTP/1.1\r\nHost: " + tunnel.host() + "\r\nContent-Length: " + LIMIT
          + "\r\nExpect: 100-continue\r\n\r\n");
      RawHttp.Head interim = client.readHead();
      assertEquals(100, interim.status(), () -> "the first answer: " + interim);
      client.write("z".repeat(LIMIT));
      RawHttp.Response response = client.readResponse("POST");
      assertEquals(200, response.status(), response::bodyText);
    }
    RecordedRequest upload = tunnel.backend().takeRequest(WAIT);
    assertEquals("/within", upload.target());
    assertEquals(LIMIT, upload.bodyLength());
  }

  @Test
  void aChunkedBodyThatGrowsOverTheLimitIs413() throws Exception {
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      client.write("POST /drawbridge/upload HTTP/1.1\r\nHost: " + tunnel.host() + "\r\nTransfer-Encoding: chunked\r\n\r\n");
      try {
        for (int i = 0; i < 5; i++) {
          client.writeChunk("y".repeat(400).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        client.endChunks();
      } catch (IOException e) {
        // The proxy may answer and close the connection as soon as the body crosses the limit,
        // before the client has sent the rest; its 413 is still there to read.
      }
      RawHttp.Response response = client.readResponse("POST");
      assertEquals(413, response.status());
      assertEquals("The request body exceeds the limit of " + LIMIT + " bytes.", response.bodyText().trim());
    }
    tunnel.awaitIdle(WAIT);
  }

  @Test
  void aRequestFramedTwoWaysNeverReachesTheBackendAsTwo() throws Exception {
    // Content-Length says 4 bytes, chunked framing says the body ends at once and a second
    // request follows: a proxy and backend that disagreed here would let the second one slip past.
    String smuggling =
        "POST /drawbridge/first HTTP/1.1\r\nHost: " + tunnel.host() + "\r\nContent-Length: 4\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /drawbridge/smuggled HTTP/1.1\r\nHost: "
            + tunnel.host() + "\r\n\r\n";
    RawHttp.Response response;
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      client.write(smuggling);
      response = client.readResponse("POST");
    }
    int status = response.status();
    if (status == 400) {
      tunnel.awaitIdle(WAIT);
      assertEquals(List.of(), tunnel.backend().drainRequests(), "a refused request reaches nobody");
      return;
    }
    // A container that accepts it must read it as chunked (RFC 9112 section 6.3): /first arrives
    // with an empty body and one framing of the agent's own, never carrying the second request.
    assertEquals(200, status, () -> "the backend's answer, not a failure of the tunnel: " + response.bodyText());
    RecordedRequest first = tunnel.backend().takeRequest(WAIT);
    assertEquals("/first", first.target());
    assertEquals(0, first.bodyLength(), "the second request is not smuggled inside the first's body");
    assertTrue(
        first.headerValues("Content-Length").size() + first.headerValues("Transfer-Encoding").size() <= 1,
        "one framing only: " + first);
  }
}
