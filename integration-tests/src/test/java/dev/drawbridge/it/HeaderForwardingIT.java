package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.TunnelFixture;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.eclipse.jetty.io.Content;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Header rules through the whole tunnel (RFC 9110 section 7.6): end-to-end headers keep their
 * order and repetition, hop-by-hop ones (the fixed set and every header named in Connection) stop
 * at each hop in both directions, Via is appended to responses, and forwarding headers describe the
 * real client.
 * Sent on a bare socket, since java.net.http refuses to send most hop-by-hop headers.
 */
@Timeout(300)
class HeaderForwardingIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  /**
   * Hop-by-hop headers the client sends; none may reach the backend. Upgrade is checked on the
   * response only: Jetty answers a request carrying an Upgrade it cannot serve with its own 400.
   */
  private static final List<String> REQUEST_HOP_HEADERS =
      List.of("Keep-Alive", "TE", "Proxy-Authorization", "X-Hop-Named");

  /** Hop-by-hop headers the backend sends; none may reach the client. */
  private static final List<String> RESPONSE_HOP_HEADERS =
      List.of("Keep-Alive", "Upgrade", "Proxy-Authenticate", "X-Resp-Hop");

  private static TunnelFixture tunnel;

  @BeforeAll
  static void startTunnel() {
    tunnel = TunnelFixture.start();
    tunnel.backend().respondTo("/response-headers", HeaderForwardingIT::responseWithHopHeaders);
    tunnel.backend().respondTo("/huge-headers", (request, response, callback) -> {
      response.setStatus(200);
      for (int i = 0; i < 40; i++) {
        response.getHeaders().add("X-Large-" + i, "v".repeat(200));
      }
      Content.Sink.write(response, true, "ok", callback);
    });
  }

  @AfterAll
  static void stopTunnel() {
    if (tunnel != null) {
      tunnel.close();
    }
  }

  private static void responseWithHopHeaders(
      RecordedRequest request, org.eclipse.jetty.server.Response response, org.eclipse.jetty.util.Callback callback) {
    response.setStatus(200);
    var headers = response.getHeaders();
    headers.add("Set-Cookie", "a=1; Path=/");
    headers.add("Set-Cookie", "b=2; HttpOnly");
    headers.add("Set-Cookie", "c=3");
    headers.add("X-Multi-Resp", "first");
    headers.add("X-Multi-Resp", "second");
    headers.add("Connection", "X-Resp-Hop");
    headers.add("X-Resp-Hop", "must not pass");
    headers.add("Keep-Alive", "timeout=9");
    headers.add("Upgrade", "example/1");
    headers.add("Proxy-Authenticate", "Basic realm=\"backend\"");
    headers.add("Via", "1.1 backend-cache");
    headers.add("Content-Type", "text/plain");
    Content.Sink.write(response, true, "ok", callback);
  }

  @BeforeEach
  void forgetEarlierRequests() {
    tunnel.backend().drainRequests();
  }

  @Test
  void requestHeadersKeepOrderLoseHopByHopAndGainForwardingHeaders() throws Exception {
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      RawHttp.Response clientResponse =
          client.exchange(
              "GET",
              "/drawbridge/request-headers",
              tunnel.host(),
              List.of(
                  "X-Multi: one",
                  "Accept: text/plain",
                  "X-Multi: two",
                  "X-Multi: three",
                  "Connection: keep-alive, X-Hop-Named",
                  "Keep-Alive: timeout=5",
                  "TE: trailers",
                  "Proxy-Authorization: Basic Zm9vOmJhcg==",
                  "X-Hop-Named: must not pass",
                  "X-Forwarded-For: 203.0.113.66",
                  "X-Forwarded-Proto: https",
                  "X-Forwarded-Host: forged.example",
                  "Forwarded: for=203.0.113.66;proto=https",
                  "Via: 1.0 upstream"));
      assertEquals(200, clientResponse.status(), clientResponse::bodyText);

      RecordedRequest backendRequest = tunnel.backend().takeRequest(WAIT);
      assertEquals(List.of("one", "two", "three"), backendRequest.headerValues("X-Multi"), "order and repetition");
      assertEquals(List.of("text/plain"), backendRequest.headerValues("Accept"));
      for (String hop : REQUEST_HOP_HEADERS) {
        assertEquals(List.of(), backendRequest.headerValues(hop), hop + " is hop-by-hop");
      }
      for (String connection : backendRequest.headerValues("Connection")) {
        // The agent's own connection to the backend may say keep-alive; nothing of the client's hop.
        assertFalse(connection.toLowerCase(Locale.ROOT).contains("x-hop-named"), connection);
      }

      // The client (127.0.0.1) is not a trusted proxy: its forwarding headers are replaced.
      assertEquals(List.of("127.0.0.1"), backendRequest.headerValues("X-Forwarded-For"));
      assertEquals(List.of("http"), backendRequest.headerValues("X-Forwarded-Proto"));
      assertEquals(List.of(tunnel.host()), backendRequest.headerValues("X-Forwarded-Host"));
      List<String> forwarded = backendRequest.headerValues("Forwarded");
      assertEquals(1, forwarded.size(), () -> "one Forwarded header: " + forwarded);
      assertTrue(forwarded.get(0).startsWith("for=127.0.0.1;proto=http"), forwarded.get(0));
      assertFalse(forwarded.get(0).contains("203.0.113.66"), "the forged element is dropped");

      // Via goes to the service only with viaToService (off by default, so nginx behind it still
      // compresses); the client's own entry passes as an end-to-end header.
      assertEquals(List.of("1.0 upstream"), viaEntries(backendRequest.headerValues("Via")));
    }
  }

  @Test
  void responseHeadersKeepOrderLoseHopByHopAndGainVia() throws Exception {
    // Precondition: the backend really sends what the proxy must strip (so the test is not vacuous).
    try (RawHttp direct = RawHttp.connect(tunnel.backend().port(), WAIT)) {
      RawHttp.Response backendResponse =
          direct.exchange("GET", "/response-headers", "127.0.0.1:" + tunnel.backend().port(), List.of());
      for (String hop : RESPONSE_HOP_HEADERS) {
        assertTrue(backendResponse.head().header(hop).isPresent(), "the backend sends " + hop);
      }
      tunnel.backend().takeRequest(WAIT);
    }

    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      RawHttp.Response clientResponse =
          client.exchange("GET", "/drawbridge/response-headers", tunnel.host(), List.of());
      tunnel.backend().takeRequest(WAIT);

      assertEquals(200, clientResponse.status(), clientResponse::bodyText);
      assertEquals("ok", clientResponse.bodyText());
      RawHttp.Head head = clientResponse.head();
      assertEquals(List.of("a=1; Path=/", "b=2; HttpOnly", "c=3"), head.headerValues("Set-Cookie"), "cookies in order");
      assertEquals(List.of("first", "second"), head.headerValues("X-Multi-Resp"));
      for (String hop : RESPONSE_HOP_HEADERS) {
        assertEquals(List.of(), head.headerValues(hop), hop + " is hop-by-hop");
      }
      for (String connection : head.headerValues("Connection")) {
        assertFalse(connection.toLowerCase(Locale.ROOT).contains("x-resp-hop"), connection);
      }
      assertEquals(List.of("1.1 backend-cache", "1.1 drawbridge"), viaEntries(head.headerValues("Via")));
    }
  }

  /**
   * A backend head larger than the client's container can write (about 8.5 KB against Tomcat's
   * and Jetty's 8 KiB) is refused before the response starts: the client gets a well-formed 502
   * with its exchange id, and its connection carries the next exchange.
   */
  @Test
  void aResponseHeadTooLargeForTheContainerGetsACleanBadGateway() throws Exception {
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      RawHttp.Response refused = client.exchange("GET", "/drawbridge/huge-headers", tunnel.host(), List.of());
      tunnel.backend().takeRequest(WAIT);
      assertEquals(502, refused.status(), refused::bodyText);
      assertTrue(refused.head().header("Drawbridge-Exchange-Id").isPresent(), "the 502 names its exchange");
      assertTrue(refused.bodyText().contains("too large"), refused.bodyText());
      assertTrue(refused.head().header("X-Large-0").isEmpty(), "nothing of the refused head reaches the client");

      RawHttp.Response next = client.exchange("GET", "/drawbridge/response-headers", tunnel.host(), List.of());
      tunnel.backend().takeRequest(WAIT);
      assertEquals(200, next.status(), next::bodyText);
      assertEquals("ok", next.bodyText());
    }
  }

  /**
   * A client that names Host in Connection cannot take the host out of the forwarding headers:
   * they are added after hop-by-hop removal, from the container's own view of the request.
   */
  @Test
  void hostNamedInConnectionStillReachesTheForwardingHeaders() throws Exception {
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      RawHttp.Response clientResponse =
          client.exchange("GET", "/drawbridge/connection-host", tunnel.host(), List.of("Connection: close, Host"));
      assertEquals(200, clientResponse.status(), clientResponse::bodyText);
    }
    RecordedRequest backendRequest = tunnel.backend().takeRequest(WAIT);
    assertEquals(List.of(tunnel.host()), backendRequest.headerValues("X-Forwarded-Host"));
    List<String> forwarded = backendRequest.headerValues("Forwarded");
    assertEquals(1, forwarded.size(), () -> "one Forwarded header: " + forwarded);
    assertTrue(forwarded.get(0).endsWith(";host=\"" + tunnel.host() + "\""), forwarded.get(0));
  }

  /** X-Real-IP is a forwarding header like the others: from a client that is not a trusted proxy it is replaced. */
  @Test
  void aClientsXRealIpIsReplacedWithItsAddress() throws Exception {
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      RawHttp.Response clientResponse =
          client.exchange("GET", "/drawbridge/real-ip", tunnel.host(), List.of("X-Real-IP: 203.0.113.66"));
      assertEquals(200, clientResponse.status(), clientResponse::bodyText);
    }
    assertEquals(List.of("127.0.0.1"), tunnel.backend().takeRequest(WAIT).headerValues("X-Real-IP"));
  }

  /** Via entries across all Via fields, in order (a field may hold a comma-separated list). */
  private static List<String> viaEntries(List<String> fields) {
    return fields.stream().flatMap(f -> java.util.Arrays.stream(f.split(","))).map(String::trim).toList();
  }
}
