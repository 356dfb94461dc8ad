package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.Containers;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.RawWebSocket;
import dev.drawbridge.it.support.TunnelFixture;
import dev.drawbridge.it.support.WebSocketBackend;
import dev.drawbridge.it.support.WebSocketClient;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * WebSockets through the tunnel, end to end: the real WAR in Jetty 12.1, the real agent jar, a
 * real WebSocket service (Jetty's) and real clients (the JDK's, and Jetty's where permessage-deflate
 * must be offered).
 */
@Timeout(300)
class WebSocketIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  private static WebSocketBackend service;
  private static TunnelFixture tunnel;
  private static HttpClient http;

  @BeforeAll
  static void startTunnel() {
    service = WebSocketBackend.start();
    tunnel = TunnelFixture.startWithoutAgent(config -> config);
    tunnel.connectAgent(service.url(), List.of());
    http = HttpClient.newHttpClient();
  }

  @AfterAll
  static void stopTunnel() {
    try {
      if (tunnel != null) {
        tunnel.close();
      }
    } finally {
      if (service != null) {
        service.close();
      }
    }
    long[] deadlocked = ManagementFactory.getThreadMXBean().findDeadlockedThreads();
    assertNull(deadlocked, "threads of the proxy deadlocked");
  }

  /** Sessions of one test end before the next begins, so no test reads another's close code. */
  @AfterEach
  void forget() {
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> service.openSessions() == 0);
    service.forgetRecorded();
  }

  private static URI ws(String path) {
    return URI.create("ws://127.0.0.1:" + tunnel.proxy().port() + "/drawbridge" + path);
  }

  @Test
  void hundredTextAndBinaryMessagesSentWithoutWaitingComeBackIdenticalAndInOrder() throws Exception {
    Random random = new Random(42);
    List<Object> sent = new java.util.ArrayList<>();
    try (WebSocketClient client = WebSocketClient.connect(http, ws("/echo"), WAIT)) {
      for (int i = 0; i < 100; i++) {
        int size = 1 + (int) ((long) i * (64 * 1024 - 1) / 99);
        if (i % 2 == 0) {
          StringBuilder text = new StringBuilder(size);
          for (int c = 0; c < size; c++) {
            text.append((char) ('a' + random.nextInt(26)));
          }
          sent.add(text.toString());
          client.sendText(text.toString(), WAIT);
        } else {
          byte[] bytes = new byte[size];
          random.nextBytes(bytes);
          sent.add(bytes);
          client.sendBinary(bytes, WAIT);
        }
      }
      for (int i = 0; i < 100; i++) {
        WebSocketClient.Message echoed = client.take(WAIT);
        if (sent.get(i) instanceof String text) {
          assertEquals(text, echoed.text(), "text message " + i);
        } else {
          assertArrayEquals((byte[]) sent.get(i), echoed.binary(), "binary message " + i);
        }
      }
    }
    tunnel.awaitIdle(WAIT);
  }

  /**
   * A handshake as browsers send it, without Content-Length: switched and echoed on Tomcat; on
   * Jetty 12.1, whose servlet upgrade cannot switch it, refused with 501 before anything switches
   * (docs/websockets.md, Limits), instead of a 101 followed by Jetty's 400 inside the connection.
   */
  @Test
  void aHandshakeWithoutContentLengthIsSwitchedOrRefusedCleanly() throws Exception {
    int openedBefore = service.openedSessions();
    try (RawWebSocket client = RawWebSocket.connect(tunnel.proxy().port(), "/drawbridge/echo", WAIT,
        "Origin: http://127.0.0.1:" + tunnel.proxy().port())) {
      if (Containers.isJetty()) {
        assertEquals(501, client.status());
        String sentence = client.readBody(400);
        assertTrue(sentence.contains("Tomcat or WildFly"), sentence);
        assertEquals(openedBefore, service.openedSessions(), "nothing reached the service");
        return;
      }
      assertEquals(101, client.status());
      client.sendText("as a browser sends it", false);
      assertEquals("as a browser sends it", client.readFrame().text());
      client.sendFrame(0x8, false, new byte[] {0x03, (byte) 0xE8});
      assertEquals(0x8, client.readFrame().opcode(), "the close frame is answered");
    }
  }

  @Test
  void handshakeHeadersReachTheServiceAndASubprotocolAndDeflateAreNegotiatedEndToEnd() throws Exception {
    String compressible = "hello ".repeat(2000);
    try (RawWebSocket client =
        RawWebSocket.connect(tunnel.proxy().port(), "/drawbridge/echo", WAIT,
            "Sec-WebSocket-Protocol: chat.v1, " + WebSocketBackend.SUBPROTOCOL,
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
            "Origin: https://app.example",
            "Cookie: session=abc123",
            // Jetty 12.1.14's servlet upgrade, which runs the proxy here, takes the first bytes after
            // the 101 for a new request unless the handshake declares an empty body (see the README).
            "Content-Length: 0")) {
      assertEquals(101, client.status());
      assertTrue(client.acceptMatches(), "Sec-WebSocket-Accept answers the client's key: " + client.header("Sec-WebSocket-Accept"));
      assertEquals("websocket", client.header("Upgrade").toLowerCase(java.util.Locale.ROOT));
      assertEquals(WebSocketBackend.SUBPROTOCOL, client.header("Sec-WebSocket-Protocol"));
      assertTrue(client.header("Sec-WebSocket-Extensions").startsWith("permessage-deflate"),
          "permessage-deflate accepted: " + client.header("Sec-WebSocket-Extensions"));
      client.sendText(compressible, true);
      RawWebSocket.Frame echoed = client.readFrame();
      assertTrue(echoed.compressed(), "the service answered with a compressed frame");
      assertTrue(echoed.payload().length < 200, "it is compressed: " + echoed.payload().length + " bytes");
      assertTrue(compressible.equals(RawWebSocket.inflate(echoed.payload())), "the compressed message came back");
      client.sendFrame(0x8, false, new byte[] {0x03, (byte) 0xE8});
      assertEquals(0x8, client.readFrame().opcode(), "the close frame is answered");
    }
    Map<String, List<String>> handshake = service.takeHandshake(WAIT);
    assertEquals(List.of("https://app.example"), handshake.get("origin"));
    assertEquals(List.of("session=abc123"), handshake.get("cookie"));
    assertTrue(String.join(",", handshake.get("sec-websocket-extensions")).contains("permessage-deflate"));
    assertTrue(String.join(",", handshake.get("sec-websocket-protocol")).contains(WebSocketBackend.SUBPROTOCOL));
    assertNotNull(handshake.get("sec-websocket-key"));
    assertEquals(List.of("13"), handshake.get("sec-websocket-version"));
    tunnel.awaitIdle(WAIT);
  }

  @Test
  void closeCodesTravelBothWays() throws Exception {
    try (WebSocketClient client = WebSocketClient.connect(http, ws("/echo"), WAIT)) {
      client.socket().sendClose(4001, "client is done").get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertEquals(4001, service.takeEnded(WAIT).code());
      assertEquals(4001, client.awaitEnd(WAIT).code(), "the service echoes the close code back");
    }
    try (WebSocketClient client = WebSocketClient.connect(http, ws("/echo"), WAIT)) {
      client.sendText("close:4002", WAIT);
      WebSocketClient.Ended end = client.awaitEnd(WAIT);
      assertEquals(4002, end.code());
      assertEquals("asked to close", end.reason());
    }
    tunnel.awaitIdle(WAIT);
  }

  @Test
  void aRefusedHandshakeReachesTheClientAsTheServicesResponse() throws Exception {
    CompletionException failure =
        assertThrows(CompletionException.class, () -> WebSocketClient.connect(http, ws("/nothing-here"), WAIT));
    WebSocketHandshakeException refused = (WebSocketHandshakeException) failure.getCause();
    assertEquals(403, refused.getResponse().statusCode());
    try (RawHttp raw = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      // With Content-Length: 0, which Jetty 12.1 needs to switch (see the test above).
      raw.write("GET /drawbridge/nothing-here HTTP/1.1\r\nHost: " + tunnel.host() + "\r\nConnection: Upgrade\r\n"
          + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          + "Content-Length: 0\r\n\r\n");
      RawHttp.Head head = raw.readFinalHead();
      assertEquals(403, head.status());
      assertEquals(WebSocketBackend.REFUSAL, new String(raw.body(head, "GET").readAllBytes(), StandardCharsets.UTF_8));
    }
    tunnel.awaitIdle(WAIT);
  }

  @Test
  void aClientThatGoesAwayClosesTheServicesSession() throws Exception {
    WebSocketClient client = WebSocketClient.connect(http, ws("/echo"), WAIT);
    client.sendText("hello", WAIT);
    assertEquals("hello", client.take(WAIT).text());
    client.socket().abort();
    WebSocketBackend.Ended end = service.takeEnded(WAIT);
    assertTrue(end.code() != 1000, "the service saw the connection break, not a clean close: " + end);
    tunnel.awaitIdle(WAIT);
  }

  @Test
  void aServiceThatDropsTheConnectionClosesTheClients() throws Exception {
    try (WebSocketClient client = WebSocketClient.connect(http, ws("/echo"), WAIT)) {
      client.sendText("drop", WAIT);
      WebSocketClient.Ended end = client.awaitEnd(WAIT);
      assertTrue(end.code() == -1 || end.code() == 1006, "the client saw the connection end abnormally: " + end);
    }
    tunnel.awaitIdle(WAIT);
  }
}
