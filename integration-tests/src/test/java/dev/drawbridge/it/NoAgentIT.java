package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.TunnelFixture;
import dev.drawbridge.protocol.Protocol;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A proxy with no agent connected: clients get a timely 503, and a client that leaves is forgotten. */
@Timeout(300)
class NoAgentIT {

  private static final int QUEUE_TIMEOUT_SECONDS = 2;
  private static final int RETRY_AFTER_SECONDS = 7;
  /** Beyond the queue timeout, for a starved machine; still well short of any other deadline. */
  private static final Duration MARGIN = Duration.ofSeconds(20);
  private static final Duration WAIT = Duration.ofSeconds(60);

  private static TunnelFixture tunnel;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();

  @BeforeAll
  static void startProxyWithoutAgent() {
    tunnel =
        TunnelFixture.startWithoutAgent(
            config ->
                config
                    .backendSetting("queueTimeoutSeconds", QUEUE_TIMEOUT_SECONDS)
                    .set("retryAfterSeconds", RETRY_AFTER_SECONDS));
  }

  @AfterAll
  static void stop() {
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void answers503WithRetryAfterWithinTheQueueTimeout() throws Exception {
    long started = System.nanoTime();
    HttpResponse<String> clientResponse =
        client.send(
            HttpRequest.newBuilder(tunnel.uri("/nobody-home")).timeout(WAIT).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    Duration elapsed = Duration.ofNanos(System.nanoTime() - started);

    assertEquals(503, clientResponse.statusCode(), clientResponse::body);
    assertEquals(Integer.toString(RETRY_AFTER_SECONDS), clientResponse.headers().firstValue("Retry-After").orElse("(none)"));
    assertTrue(clientResponse.headers().firstValue(Protocol.EXCHANGE_ID_HEADER).isPresent(), "exchange id header");
    assertOneSentence(clientResponse.body());
    assertTrue(
        elapsed.compareTo(Duration.ofSeconds(QUEUE_TIMEOUT_SECONDS).plus(MARGIN)) <= 0,
        () -> "answered after " + elapsed);
    tunnel.awaitIdle(MARGIN);
  }

  @Test
  void clientLeavingWhileQueuedFreesItsSlot() throws Exception {
    try (RawHttp queuedClient = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      queuedClient.write("GET /drawbridge/leaving HTTP/1.1\r\nHost: " + tunnel.host() + "\r\n\r\n");
      await("the request is queued")
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(50))
          .until(tunnel::status, s -> s.liveExchanges() == 1 && s.backend(TunnelFixture.BACKEND_ID).queueDepth() == 1);
    }
    // Containers may notice the closed connection only when they next touch it, at the latest at
    // the queue deadline; either way the exchange must be gone by then.
    await("the queued exchange is freed")
        .atMost(Duration.ofSeconds(QUEUE_TIMEOUT_SECONDS).plus(MARGIN))
        .pollInterval(Duration.ofMillis(50))
        .until(tunnel::status, AdminStatus::idle);
  }

  static void assertOneSentence(String body) {
    String text = body.strip();
    assertTrue(!text.isEmpty() && !text.contains("\n"), () -> "one line: " + body);
    assertTrue(text.endsWith(".") && !text.contains(". "), () -> "one sentence: " + body);
    assertTrue(!text.contains("Exception") && !text.contains("<html"), () -> "no stack trace or error page: " + body);
  }
}
