package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The proxy stops (its web application is stopped, as on undeploy or container shutdown) with work
 * in every state: a response streaming finishes within {@code drainGraceSeconds}, or is cut when
 * the grace ends; a request queued or still at the agent gets 503 with {@code Retry-After} at once;
 * the agent is told the proxy is shutting down.
 */
@Timeout(300)
class ProxyDrainIT {

  private static final String NO_AGENT_BACKEND = "unserved";
  private static final int RETRY_AFTER_SECONDS = 3;
  private static final Duration WAIT = Duration.ofSeconds(60);
  /**
   * How long after the stop began answers that need no grace may take: room for a starved machine,
   * and still far short of the grace in the test that tells the two apart.
   */
  private static final Duration AT_ONCE = Duration.ofSeconds(30);
  /**
   * How long after the grace a stream may take to be cut: room for a starved machine, and still
   * well short of Tomcat's {@code unloadDelay} (30 s in the WAR), after which Tomcat would end it.
   */
  private static final Duration CUT_MARGIN = Duration.ofSeconds(15);
  private static final String SHUTTING_DOWN = "The proxy is shutting down; retry shortly.";

  private final CountDownLatch releaseBackend = new CountDownLatch(1);
  private TunnelFixture tunnel;

  @AfterEach
  void stop() {
    releaseBackend.countDown();
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void aStreamingResponseFinishesWhileQueuedAndUnansweredRequestsGet503AtOnce() throws Exception {
    tunnel = start(300);
    CountDownLatch releaseStream = new CountDownLatch(1);
    tunnel.backend().respondTo("/events", Responders.sse(List.of("first"), releaseStream, List.of("last")));
    tunnel.backend().respondTo("/held", Responders.sse(List.of(), releaseBackend, List.of()));

    try (RawHttp streamClient = RawHttp.connect(tunnel.proxy().port(), WAIT);
        RawHttp heldClient = RawHttp.connect(tunnel.proxy().port(), WAIT);
        RawHttp queuedClient = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      streamClient.write(get("/events"));
      RawHttp.Head head = streamClient.readFinalHead();
      BufferedReader events =
          new BufferedReader(new InputStreamReader(streamClient.body(head, "GET"), StandardCharsets.UTF_8));
      assertEquals("data: first", events.readLine());
      heldClient.write(get("/held"));
      queuedClient.write(get("/" + NO_AGENT_BACKEND + "/queued"));
      await("one request at the agent, one queued")
          .atMost(WAIT)
          .until(tunnel::status, s -> s.backend(TunnelFixture.BACKEND_ID).inFlight() == 2
              && s.backend(NO_AGENT_BACKEND).queueDepth() == 1);

      long stopBegan = System.nanoTime();
      CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> tunnel.proxy().stop());

      for (RawHttp refused : List.of(heldClient, queuedClient)) {
        RawHttp.Response response = refused.readResponse("GET");
        assertEquals(503, response.status(), response::bodyText);
        assertEquals(SHUTTING_DOWN, response.bodyText().strip());
        assertEquals(Integer.toString(RETRY_AFTER_SECONDS), response.head().header("Retry-After").orElse("(none)"));
      }
      Duration refusedAfter = Duration.ofNanos(System.nanoTime() - stopBegan);
      assertTrue(refusedAfter.compareTo(AT_ONCE) < 0, () -> "refused " + refusedAfter + " after the stop began");
      tunnel.agent().awaitLine("The proxy is shutting down", WAIT);
      assertFalse(stopping.isDone(), "the stop waits for the stream");

      releaseStream.countDown();
      assertEquals("", events.readLine());
      assertEquals("data: last", events.readLine());
      assertEquals("", events.readLine());
      assertEquals(null, events.readLine(), "the stream ended cleanly, as the backend ended it");
      stopping.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  @Test
  void aStreamStillRunningWhenTheGraceEndsIsCut() throws Exception {
    int graceSeconds = 1;
    tunnel = start(graceSeconds);
    tunnel.backend().respondTo("/events", Responders.sse(List.of("first"), releaseBackend, List.of("never")));
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      client.write(get("/events"));
      RawHttp.Head head = client.readFinalHead();
      BufferedReader events =
          new BufferedReader(new InputStreamReader(client.body(head, "GET"), StandardCharsets.UTF_8));
      assertEquals("data: first", events.readLine());
      assertEquals("", events.readLine());

      long stopBegan = System.nanoTime();
      CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> tunnel.proxy().stop());
      IOException cut = assertThrows(IOException.class, events::readLine, "a cut stream must not end cleanly");
      Duration cutAfter = Duration.ofNanos(System.nanoTime() - stopBegan);

      assertFalse(cut instanceof SocketTimeoutException, "cut, not left silent: " + cut);
      assertTrue(cutAfter.compareTo(Duration.ofSeconds(graceSeconds)) >= 0, () -> "cut before the grace ended: " + cutAfter);
      assertTrue(cutAfter.compareTo(Duration.ofSeconds(graceSeconds).plus(CUT_MARGIN)) < 0, () -> "cut " + cutAfter + " after the stop began");
      stopping.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  private TunnelFixture start(int drainGraceSeconds) {
    return TunnelFixture.start(
        config -> unservedBackendBehind(config)
            .set("drainGraceSeconds", drainGraceSeconds)
            .set("retryAfterSeconds", RETRY_AFTER_SECONDS),
        List.of());
  }

  /** A second backend no agent serves, for requests that stay queued, under its own path. */
  private static ProxyConfig unservedBackendBehind(ProxyConfig config) {
    return config
        .backend(NO_AGENT_BACKEND, config.firstTokenSha256())
        .set("routes", List.of(
            Map.of("pathPrefix", "/" + NO_AGENT_BACKEND, "backend", NO_AGENT_BACKEND),
            Map.of("pathPrefix", "/", "backend", TunnelFixture.BACKEND_ID)));
  }

  private String get(String path) {
    return "GET " + tunnelPath(path) + " HTTP/1.1\r\nHost: " + tunnel.host() + "\r\n\r\n";
  }

  private static String tunnelPath(String path) {
    return "/drawbridge" + path;
  }
}
