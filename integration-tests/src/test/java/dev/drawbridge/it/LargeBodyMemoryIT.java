package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.Bodies;
import dev.drawbridge.it.support.ForkedProxyServer;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.Tokens;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 50 MiB each way through a proxy whose heap is smaller than the body, so a proxy that buffers a
 * body dies of OutOfMemoryError (the child exits on it) instead of passing. The test JVM streams
 * both bodies too: generated as sent, hashed as received.
 */
@Timeout(300)
class LargeBodyMemoryIT {

  private static final long BODY_BYTES = 50L * 1024 * 1024;

  /**
   * Heap of the proxy's JVM: comfortably enough for Jetty, the WAR and the test classpath, and far
   * below the body size.
   */
  private static final int PROXY_HEAP_MB = 32;

  private static final Duration WAIT = Duration.ofSeconds(60);

  private static Backend backend;
  private static ForkedProxyServer proxy;
  private static AgentProcess agent;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();

  @BeforeAll
  static void start() {
    String token = Tokens.random();
    backend = Backend.start();
    backend.respondTo("/upload", Responders.fixed(200, "text/plain", "stored\n"));
    backend.respondTo("/download", Responders.download(BODY_BYTES));
    proxy = ProxyServer.forked(ProxyConfig.singleBackend("default", Tokens.sha256Hex(token)).toJson(), PROXY_HEAP_MB);
    agent = AgentProcess.connect(proxy.baseUrl(), backend.url(), "default", token, WAIT);
  }

  @AfterAll
  static void stop() {
    try {
      if (agent != null) {
        agent.close();
      }
    } finally {
      if (proxy != null) {
        proxy.close();
      }
      if (backend != null) {
        backend.close();
      }
    }
  }

  @BeforeEach
  void forgetEarlierRequests() {
    backend.drainRequests();
  }

  @Test
  void uploadOf50MiBStreamsThroughASmallHeap() throws Exception {
    HttpRequest upload =
        HttpRequest.newBuilder(proxy.uri("/upload"))
            .timeout(WAIT)
            .header("Content-Type", "application/octet-stream")
            // A declared length (not chunked): the proxy must stream it all the same.
            .POST(HttpRequest.BodyPublishers.fromPublisher(
                HttpRequest.BodyPublishers.ofInputStream(() -> Bodies.pattern(BODY_BYTES)), BODY_BYTES))
            .build();

    HttpResponse<String> clientResponse = client.send(upload, HttpResponse.BodyHandlers.ofString());

    assertEquals(200, clientResponse.statusCode(), clientResponse::body);
    RecordedRequest backendRequest = backend.takeRequest(WAIT);
    assertEquals("/upload", backendRequest.target());
    assertEquals(BODY_BYTES, backendRequest.bodyLength());
    assertEquals(Bodies.patternSha256(BODY_BYTES), backendRequest.bodySha256());
    assertProxyAliveAndIdle();
  }

  @Test
  void downloadOf50MiBStreamsThroughASmallHeap() throws Exception {
    HttpResponse<InputStream> clientResponse =
        client.send(
            HttpRequest.newBuilder(proxy.uri("/download")).timeout(WAIT).GET().build(),
            HttpResponse.BodyHandlers.ofInputStream());

    assertEquals(200, clientResponse.statusCode());
    assertEquals(Long.toString(BODY_BYTES), clientResponse.headers().firstValue("Content-Length").orElse("(none)"));
    Bodies.Summary received;
    try (InputStream body = clientResponse.body()) {
      received = Bodies.summarize(body, 0);
    }
    assertEquals(BODY_BYTES, received.length());
    assertEquals(Bodies.patternSha256(BODY_BYTES), received.sha256());
    assertEquals("/download", backend.takeRequest(WAIT).target());
    assertProxyAliveAndIdle();
  }

  private static void assertProxyAliveAndIdle() {
    assertTrue(proxy.isAlive(), () -> "the proxy JVM died; its output:\n" + String.join("\n", proxy.lines()));
    Awaitility.await("exchanges freed")
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> AdminStatus.read(proxy.baseUrl()), AdminStatus::idle);
  }
}
