package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.RawWebSocket;
import dev.drawbridge.it.support.TunnelFixture;
import dev.drawbridge.it.support.WebSocketBackend;
import dev.drawbridge.it.support.WebSocketClient;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Where a WebSocket cannot or may not be opened, the client gets a defined status and one
 * sentence, never a hang or a silent downgrade; route rules apply to the handshake; and the
 * agent's loss closes its open WebSockets.
 */
@Timeout(300)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WebSocketLimitsIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  private static WebSocketBackend service;
  private static TunnelFixture tunnel;
  private static HttpClient http;

  @BeforeAll
  static void startTunnel() {
    service = WebSocketBackend.start();
    tunnel =
        TunnelFixture.startWithoutAgent(
            config ->
                config
                    .backendSetting("maxUpgraded", 2)
                    .set("routes", List.of(
                        Map.of("pathPrefix", "/off", "stripPrefix", true, "backend", TunnelFixture.BACKEND_ID,
                            "upgrades", false),
                        Map.of("pathPrefix", "/denied", "stripPrefix", true, "backend", TunnelFixture.BACKEND_ID,
                            "deny", List.of("127.0.0.0/8")),
                        Map.of("pathPrefix", "/", "backend", TunnelFixture.BACKEND_ID))));
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
    assertNull(ManagementFactory.getThreadMXBean().findDeadlockedThreads(), "threads of the proxy deadlocked");
  }

  private static URI ws(String path) {
    return URI.create("ws://127.0.0.1:" + tunnel.proxy().port() + "/drawbridge" + path);
  }

  /** A handshake declaring {@code Content-Length: 0}, without which Jetty 12.1 cannot switch (see WebSocketIT). */
  private static RawHttp.Head handshake(RawHttp raw, String path, String upgrade) throws Exception {
    raw.write("GET /drawbridge" + path + " HTTP/1.1\r\nHost: " + tunnel.host() + "\r\nConnection: Upgrade\r\n"
        + "Upgrade: " + upgrade + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Content-Length: 0\r\n\r\n");
    return raw.readFinalHead();
  }

  @Test
  void aRouteWithUpgradesTurnedOffAnswers501WithASentence() throws Exception {
    try (RawHttp raw = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      RawHttp.Head head = handshake(raw, "/off/echo", "websocket");
      assertEquals(501, head.status());
      assertEquals("Protocol switches (WebSockets) are turned off for this path.\n",
          new String(raw.body(head, "GET").readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void routeRulesApplyToTheHandshake() throws Exception {
    try (RawHttp raw = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      assertEquals(403, handshake(raw, "/denied/echo", "websocket").status());
    }
  }

  @Test
  void anH2cUpgradeIsNeverRelayedTheRequestGoesAsAnOrdinaryOne() throws Exception {
    try (RawHttp raw = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      RawHttp.Head head = handshake(raw, "/echo", "h2c");
      // The service saw a plain GET (no Upgrade) and answered it as one.
      assertEquals(403, head.status());
      assertEquals(WebSocketBackend.REFUSAL, new String(raw.body(head, "GET").readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void beyondMaxUpgradedAHandshakeGets503WithRetryAfterAndTheOpenOnesShowInTheStatus() throws Exception {
    try (WebSocketClient first = WebSocketClient.connect(http, ws("/echo"), WAIT);
        WebSocketClient second = WebSocketClient.connect(http, ws("/echo"), WAIT)) {
      AdminStatus status = tunnel.status();
      assertEquals(2, status.backend(TunnelFixture.BACKEND_ID).upgraded(), () -> "status: " + status);
      try (RawHttp raw = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
        RawHttp.Head head = handshake(raw, "/echo", "websocket");
        assertEquals(503, head.status());
        assertTrue(head.header("Retry-After").isPresent(), "503 says when to retry");
        String sentence = new String(raw.body(head, "GET").readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(sentence.contains("upgraded connections open, its limit"), sentence);
      }
      first.sendText("still open", WAIT);
      assertEquals("still open", first.take(WAIT).text());
    }
    tunnel.awaitIdle(WAIT);
    Awaitility.await().atMost(WAIT).until(() -> tunnel.status().backend(TunnelFixture.BACKEND_ID).upgraded() == 0);
  }

  /** Last: a killed agent's held polls look alive to the proxy for a while after. */
  @Test
  @Order(Integer.MAX_VALUE)
  void aKilledAgentClosesItsOpenWebSocketsPromptly() throws Exception {
    try (WebSocketClient client = WebSocketClient.connect(http, ws("/echo"), WAIT);
        RawWebSocket raw = RawWebSocket.connect(tunnel.proxy().port(), "/drawbridge/echo", WAIT, "Content-Length: 0")) {
      client.sendText("before", WAIT);
      assertEquals("before", client.take(WAIT).text());
      assertEquals(101, raw.status());
      long killed = System.nanoTime();
      tunnel.agent().kill();
      WebSocketClient.Ended end = client.awaitEnd(WAIT);
      assertTrue(end.code() == -1 || end.code() == 1006, "the client's connection broke: " + end);
      assertTrue(raw.serverClosed(), "the proxy closed the connection");
      Duration took = Duration.ofNanos(System.nanoTime() - killed);
      // Room for a starved machine, still well before the agent would be found lost (pollWaitSeconds
      // plus agentGraceSeconds, 30 s here) or the connection idle (60 s).
      assertTrue(took.compareTo(Duration.ofSeconds(20)) < 0, "closed within 20 s of the kill, took " + took);
    } finally {
      tunnel.connectAgent(service.url(), List.of());
    }
    tunnel.awaitIdle(WAIT);
  }
}
