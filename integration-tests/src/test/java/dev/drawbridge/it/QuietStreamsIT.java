package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.Nginx;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.Tokens;
import dev.drawbridge.it.support.WebSocketBackend;
import dev.drawbridge.it.support.WebSocketClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Streams that stay quiet for longer than what lies between agent and proxy lets a connection be
 * silent. A Server-Sent Events response whose next event comes late, on a proxy whose container
 * cuts an agent call that carries nothing for its idle timeout (Tomcat's {@code
 * connectionTimeout}, 20 s in Tomcat's own example configuration; Jetty's idle timeout). And a WebSocket on
 * which nobody speaks for a while, with the agent behind a real load balancer (nginx) that cuts
 * connections idle either way. The agent's keepalive frames hold its calls to the proxy open, the
 * proxy's hold the call that carries the client's side to the agent open, and the client sees
 * nothing of them.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class QuietStreamsIT {

  /** The idle timeout of the container and of the load balancer: a call silent this long is cut. */
  private static final Duration IDLE = Duration.ofSeconds(4);
  /** Three idle timeouts. */
  private static final Duration QUIET = IDLE.multipliedBy(3);
  /** Sixteen agent keepalives within the idle timeout: a starved machine may delay some. */
  private static final String AGENT_KEEPALIVE = "250ms";
  /** The proxy's keepalive interval toward the agent: a quarter of the idle timeout. */
  private static final int PROXY_KEEPALIVE_SECONDS = 1;
  /** Polls end well within the load balancer's idle timeout, as operators set them. */
  private static final int POLL_WAIT_SECONDS = 1;
  private static final Duration WAIT = Duration.ofSeconds(60);

  private static String token;
  private static Backend backend;
  private static WebSocketBackend service;
  /** A proxy whose container cuts agent calls silent for {@link #IDLE}. */
  private static ProxyServer strictProxy;
  /** A proxy with the container's own idle timeout, reached by its agent through {@link #nginx}. */
  private static ProxyServer proxy;
  private static Nginx nginx;
  private static final List<AutoCloseable> parts = new ArrayList<>();
  private static HttpClient http;

  @BeforeAll
  static void start() {
    token = Tokens.random();
    String digest = Tokens.sha256Hex(token);
    backend = own(Backend.start());
    service = own(WebSocketBackend.start());
    strictProxy = own(ProxyServer.start(
        ProxyConfig.singleBackend("default", digest), ProxyServer.Options.DEFAULT.withIdleTimeout(IDLE)));
    own(agent(strictProxy.baseUrl(), backend.url()));
    if (Nginx.isInstalled()) {
      proxy = own(ProxyServer.start(ProxyConfig.singleBackend("default", digest)
          .set("upgradeKeepaliveSeconds", PROXY_KEEPALIVE_SECONDS)
          .set("pollWaitSeconds", POLL_WAIT_SECONDS)));
      nginx = own(Nginx.startCuttingIdle(proxy.port(), IDLE));
      own(agent(nginx.url() + ProxyServer.CONTEXT_PATH, service.url()));
    }
    http = HttpClient.newHttpClient();
  }

  private static <T extends AutoCloseable> T own(T part) {
    parts.add(0, part);
    return part;
  }

  private static AgentProcess agent(String proxyUrl, String target) {
    List<String> flags = new ArrayList<>(AgentProcess.flags(proxyUrl, target, "default", token));
    flags.addAll(List.of("--keepalive-interval", AGENT_KEEPALIVE));
    AgentProcess agent = AgentProcess.start(flags);
    try {
      agent.awaitLine(AgentProcess.CONNECTED, WAIT);
      return agent;
    } catch (RuntimeException | AssertionError e) {
      agent.close();
      throw e;
    }
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable part : parts) {
      try {
        part.close();
      } catch (Exception e) {
        // Closing the rest matters more.
      }
    }
  }

  @Test
  void serverSentEventsQuietForThreeIdleTimeoutsArriveWhole() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    backend.respondTo("/events", Responders.sse(List.of("first"), release, List.of("second")));
    try (RawHttp client = RawHttp.connect(strictProxy.port(), WAIT)) {
      client.write("GET /drawbridge/events HTTP/1.1\r\nHost: 127.0.0.1:" + strictProxy.port()
          + "\r\nAccept: text/event-stream\r\n\r\n");
      RawHttp.Head head = client.readFinalHead();
      assertEquals(200, head.status());
      try (BufferedReader events =
          new BufferedReader(new InputStreamReader(client.body(head, "GET"), StandardCharsets.UTF_8))) {
        assertEquals("data: first", events.readLine());
        assertEquals("", events.readLine());
        long quietFrom = System.nanoTime();
        CompletableFuture.runAsync(release::countDown, CompletableFuture.delayedExecutor(QUIET.toMillis(), TimeUnit.MILLISECONDS));
        // Nothing of the keepalives reaches the client: the next line is the next event.
        assertEquals("data: second", events.readLine());
        assertTrue(System.nanoTime() - quietFrom >= QUIET.toNanos(), "the stream was quiet for " + QUIET);
        assertEquals("", events.readLine());
        assertNull(events.readLine(), "the stream ends cleanly after the backend finished");
      }
    } finally {
      release.countDown();
    }
  }

  @Test
  void aWebSocketQuietForThreeIdleTimeoutsOfALoadBalancerStaysOpenBothWays() throws Exception {
    assumeTrue(nginx != null, "nginx is not installed");
    URI uri = URI.create("ws://127.0.0.1:" + proxy.port() + "/drawbridge/echo");
    try (WebSocketClient client = WebSocketClient.connect(http, uri, WAIT)) {
      client.sendText("before", WAIT);
      assertEquals("before", client.take(WAIT).text());
      // Nothing of the keepalives reaches the client.
      assertNull(client.nextWithin(QUIET), "no message while both sides are quiet");
      client.sendText("after", WAIT);
      assertEquals("after", client.take(WAIT).text(), "the connection survived the quiet");
    }
    assertEquals(1000, service.takeEnded(WAIT).code(), "the service saw the client's own close");
  }
}
