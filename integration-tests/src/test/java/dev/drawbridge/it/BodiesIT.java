package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drawbridge.it.support.Bodies;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Request and response bodies of every framing and size class through the whole tunnel: inline
 * (up to 64 KiB with a Content-Length), streamed (larger, or chunked of unknown length), with and
 * without {@code Expect: 100-continue}. Bodies are generated patterns compared by SHA-256.
 */
@Timeout(300)
class BodiesIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  /** The backend answered before the client got its response, so its record is already there. */
  private static final Duration ALREADY = Duration.ofSeconds(2);
  private static final int INLINE_MAX = 64 * 1024;
  private static final int MIB = 1024 * 1024;

  private static TunnelFixture tunnel;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();

  @BeforeAll
  static void startTunnel() {
    tunnel = TunnelFixture.start();
    tunnel.backend().respondTo("/upload", Responders.fixed(200, "text/plain", "stored\n"));
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

  @ParameterizedTest(name = "{0} bytes, chunked={1}")
  @CsvSource({
    // Content-Length bodies: empty, tiny, the inline limit, one past it, large.
    "0, false",
    "1, false",
    INLINE_MAX + ", false",
    (INLINE_MAX + 1) + ", false",
    (5 * MIB) + ", false",
    // Chunked bodies (unknown length) always stream.
    "0, true",
    "1, true",
    (INLINE_MAX + 1) + ", true",
    (5 * MIB) + ", true",
  })
  void requestBodyReachesTheBackendWhole(long length, boolean chunked) throws Exception {
    try (RawHttp connection = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      connection.write(
          "POST /drawbridge/upload HTTP/1.1\r\nHost: " + tunnel.host() + "\r\nContent-Type: application/octet-stream\r\n"
              + (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + length + "\r\n")
              + "\r\n");
      writeBody(connection, length, chunked);
      RawHttp.Response clientResponse = connection.readResponse("POST");

      assertEquals(200, clientResponse.status(), clientResponse::bodyText);
      assertEquals("stored\n", clientResponse.bodyText());
      RecordedRequest backendRequest = tunnel.backend().takeRequest(ALREADY);
      assertEquals("/upload", backendRequest.target());
      assertEquals(length, backendRequest.bodyLength());
      assertEquals(Bodies.patternSha256(length), backendRequest.bodySha256());
      if (!chunked) {
        assertEquals(List.of(Long.toString(length)), backendRequest.headerValues("Content-Length"));
      }
    }
  }

  @ParameterizedTest(name = "{0} bytes")
  @CsvSource({"1000", (INLINE_MAX + 1) + "", (2 * MIB) + ""})
  void expectContinueUploadGetsTheInterimAnswerAndSucceeds(long length) throws Exception {
    try (RawHttp connection = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      connection.write(
          "PUT /drawbridge/upload HTTP/1.1\r\nHost: " + tunnel.host() + "\r\nContent-Type: application/octet-stream\r\n"
              + "Content-Length: " + length + "\r\nExpect: 100-continue\r\n\r\n");
      // The body is sent only after the proxy invited it, as a careful client does.
      RawHttp.Head interim = connection.readHead();
      assertEquals(100, interim.status(), () -> "expected 100 Continue before the body, got " + interim);
      writeBody(connection, length, false);
      RawHttp.Response clientResponse = connection.readResponse("PUT");

      assertEquals(200, clientResponse.status(), clientResponse::bodyText);
      RecordedRequest backendRequest = tunnel.backend().takeRequest(ALREADY);
      assertEquals("PUT", backendRequest.method());
      assertEquals("/upload", backendRequest.target());
      assertEquals(length, backendRequest.bodyLength());
      assertEquals(Bodies.patternSha256(length), backendRequest.bodySha256());
    }
  }

  @ParameterizedTest(name = "{0} bytes, chunked={1}")
  @CsvSource({"10, false", "10, true", (5 * MIB) + ", false", (5 * MIB) + ", true"})
  void responseBodyReachesTheClientWhole(long length, boolean chunked) throws Exception {
    String path = "/download/" + length + (chunked ? "/chunked" : "/fixed");
    tunnel.backend().respondTo(path, chunked ? Responders.chunkedDownload(length) : Responders.download(length));
    HttpResponse<InputStream> clientResponse =
        client.send(
            HttpRequest.newBuilder(tunnel.uri(path)).timeout(WAIT).GET().build(),
            HttpResponse.BodyHandlers.ofInputStream());

    assertEquals(200, clientResponse.statusCode());
    if (!chunked) {
      assertEquals(Long.toString(length), clientResponse.headers().firstValue("Content-Length").orElse("(none)"));
    }
    Bodies.Summary received;
    try (InputStream body = clientResponse.body()) {
      received = Bodies.summarize(body, 0);
    }
    assertEquals(length, received.length());
    assertEquals(Bodies.patternSha256(length), received.sha256());
    assertEquals(path, tunnel.backend().takeRequest(WAIT).target());
  }

  private static void writeBody(RawHttp connection, long length, boolean chunked) throws Exception {
    byte[] buffer = new byte[16 * 1024];
    try (InputStream pattern = Bodies.pattern(length)) {
      OutputStream out = connection.output();
      for (int n = pattern.read(buffer); n != -1; n = pattern.read(buffer)) {
        if (chunked) {
          connection.writeChunk(java.util.Arrays.copyOf(buffer, n));
        } else {
          out.write(buffer, 0, n);
        }
      }
      out.flush();
    }
    if (chunked) {
      connection.endChunks();
    }
  }
}
