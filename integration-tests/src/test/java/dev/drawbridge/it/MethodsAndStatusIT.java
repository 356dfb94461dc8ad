package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.Containers;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import dev.drawbridge.protocol.Json;
import dev.drawbridge.protocol.Protocol;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.eclipse.jetty.io.Content;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every method and a range of statuses through the whole tunnel: the backend sees the client's
 * method, target (byte for byte, still percent-encoded) and body; the client sees the backend's
 * status and body.
 */
@Timeout(300)
class MethodsAndStatusIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  /**
   * The backend answered before the client got its response, so its record is already there; a
   * short wait only covers the hand-over between the backend's threads.
   */
  private static final Duration ALREADY = Duration.ofSeconds(2);
  private static final String PROXY_PATH = "/drawbridge";

  /** Encoded slash and space, a literal plus, repeated and empty query keys, an encoded ampersand. */
  private static final String ODD_TARGET = "/m/a%2Fb%20c/d+e;p=1?x=1&x=2&y=%20&&z=%26&x=3";

  private static TunnelFixture tunnel;

  @BeforeAll
  static void startTunnel() {
    tunnel = TunnelFixture.start();
    tunnel.backend().respondTo("/head/file", Responders.download(4321));
    tunnel.backend().respondTo("/ranged/file", (request, response, callback) -> {
      // The second hundred bytes of a 1,000-byte file, as a static file server answers a range.
      response.setStatus(206);
      response.getHeaders().put("Content-Range", "bytes 100-199/1000");
      response.getHeaders().put("ETag", "\"v1\"");
      response.getHeaders().put("Accept-Ranges", "bytes");
      Content.Sink.write(response, true, "r".repeat(100), callback);
    });
    for (int status : new int[] {201, 204, 304, 404, 500, 299, 599}) {
      String body = status == 204 || status == 304 ? "" : "status " + status + " from the backend\n";
      tunnel.backend().respondTo("/status/" + status, Responders.fixed(status, "text/plain", body));
    }
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

  @ParameterizedTest(name = "{0} {1} with body \"{2}\"")
  @CsvSource(
      delimiter = '|',
      nullValues = "NONE",
      value = {
        "GET     | " + ODD_TARGET + "     | NONE",
        "POST    | /post?a=1&a=2             | posted body",
        "PUT     | /put/x%2Fy                | {\"put\":true}",
        "PATCH   | /patch?op=replace&op=add  | patch body",
        "DELETE  | /delete/item%201          | NONE",
        "DELETE  | /delete/with-body         | delete body",
        "OPTIONS | /options?x=%7E            | NONE",
        "PURGE   | /cache/a%2Fb?all=1&all=2  | purge body",
      })
  void methodTargetAndBodyReachTheBackendUnchanged(String method, String target, String body) throws Exception {
    byte[] bodyBytes = body == null ? null : body.getBytes(StandardCharsets.UTF_8);
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      StringBuilder request =
          new StringBuilder(method + " " + PROXY_PATH + target + " HTTP/1.1\r\nHost: " + tunnel.host() + "\r\n");
      if (bodyBytes != null) {
        request.append("Content-Type: text/plain\r\nContent-Length: ").append(bodyBytes.length).append("\r\n");
      }
      client.write(request.append("\r\n").toString());
      if (bodyBytes != null) {
        client.write(bodyBytes);
      }
      RawHttp.Response clientResponse = client.readResponse(method);

      assertEquals(200, clientResponse.status(), clientResponse::bodyText);
      assertTrue(clientResponse.head().header(Protocol.EXCHANGE_ID_HEADER).isPresent(), "exchange id header");
      RecordedRequest backendRequest = tunnel.backend().takeRequest(ALREADY);
      assertEquals(method, backendRequest.method());
      assertEquals(target, backendRequest.target(), "the target exactly as the client wrote it");
      assertEquals(body == null ? "" : body, backendRequest.body());
      assertEquals(bodyBytes == null ? 0 : bodyBytes.length, backendRequest.bodyLength());
      assertEquals(
          backendRequest,
          Json.fromJson(clientResponse.bodyText(), RecordedRequest.class),
          "the client gets the backend's answer");
    }
  }

  @Test
  void headKeepsContentLengthAndSendsNoBody() throws Exception {
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      client.write("HEAD " + PROXY_PATH + "/head/file HTTP/1.1\r\nHost: " + tunnel.host() + "\r\n\r\n");
      RawHttp.Head head = client.readFinalHead();

      assertEquals(200, head.status());
      assertEquals("4321", head.header("Content-Length").orElse("(none)"), "the backend's Content-Length");
      assertEquals("HEAD", tunnel.backend().takeRequest(WAIT).method());
      // Had the proxy sent body bytes after the head, they would be read as the next status line.
      RawHttp.Response next =
          client.exchange("GET", PROXY_PATH + "/after-head", tunnel.host(), List.of());
      assertEquals(200, next.status(), "the connection carries a clean next response");
      assertEquals("/after-head", tunnel.backend().takeRequest(WAIT).target());
    }
  }

  /** Resumed downloads (package managers, browsers, video players) ask for a range of the file. */
  @Test
  void rangeRequestsReachTheBackendAndPartialContentTheClient() throws Exception {
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      RawHttp.Response partial = client.exchange("GET", PROXY_PATH + "/ranged/file", tunnel.host(),
          List.of("Range: bytes=100-199", "If-Range: \"v1\""));

      assertEquals(206, partial.status(), partial::bodyText);
      assertEquals("bytes 100-199/1000", partial.head().header("Content-Range").orElse("(none)"));
      assertEquals("bytes", partial.head().header("Accept-Ranges").orElse("(none)"));
      assertEquals("r".repeat(100), partial.bodyText());
      RecordedRequest backendRequest = tunnel.backend().takeRequest(WAIT);
      assertEquals("bytes=100-199", backendRequest.header("Range").orElse("(none)"), "the range reached the backend");
      assertEquals("\"v1\"", backendRequest.header("If-Range").orElse("(none)"));
    }
  }

  @ParameterizedTest(name = "backend status {0}")
  @CsvSource({"201", "204", "304", "404", "500", "299", "599"})
  void clientSeesTheBackendsStatusAndBody(int status) throws Exception {
    String expectedBody = status == 204 || status == 304 ? "" : "status " + status + " from the backend\n";
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      RawHttp.Response clientResponse =
          client.exchange("GET", PROXY_PATH + "/status/" + status, tunnel.host(), List.of());

      assertEquals(status, clientResponse.status(), clientResponse::bodyText);
      assertArrayEquals(expectedBody.getBytes(StandardCharsets.UTF_8), clientResponse.body());
      tunnel.backend().takeRequest(WAIT);
      if (Containers.closesConnectionAfter(status)) {
        assertEquals("close", clientResponse.head().header("Connection").orElse("(none)"), "the container says it closes");
        return;
      }
      // A 204 or 304 with stray body bytes would corrupt the next response on this connection.
      RawHttp.Response next = client.exchange("GET", PROXY_PATH + "/next", tunnel.host(), List.of());
      assertEquals(200, next.status(), "the connection carries a clean next response");
      assertEquals("/next", tunnel.backend().takeRequest(WAIT).target());
    }
  }
}
