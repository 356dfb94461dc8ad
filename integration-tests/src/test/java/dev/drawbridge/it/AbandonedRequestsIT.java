package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.drawbridge.it.support.AbandonedBurst;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import dev.drawbridge.protocol.Json;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A burst of requests whose clients send them and close their connections at once, while real
 * clients keep sending. Neither the container nor the backend would ever end the abandoned ones
 * (their deadlines are far away, the backend stalls them), so they can only leave because the
 * proxy sees their connections closed (the kernel's table, checked once a second while requests
 * wait): they leave within seconds, the agent is told to drop the ones it took, and every real
 * request gets its own 200 meanwhile.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AbandonedRequestsIT {

  private static final int BURST = 2_000;
  private static final int REAL_CLIENTS = 4;
  private static final int AGENT_CONCURRENCY = 8;
  /** Far beyond the test: no deadline may be what ends an abandoned request. */
  private static final int DEADLINE_SECONDS = 600;
  /**
   * From the end of the burst until nothing abandoned is left: the container still takes in the
   * burst's requests after the last was sent, then one check a second ends what arrived.
   */
  private static final Duration CLEARED_WITHIN = Duration.ofSeconds(40);
  /** A real request may wait behind the burst until it is cleared. */
  private static final Duration WAIT = Duration.ofSeconds(60);

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final ExecutorService realClients = Executors.newFixedThreadPool(REAL_CLIENTS);
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final AtomicLong served = new AtomicLong();
  private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
  private TunnelFixture tunnel;

  @AfterEach
  void stop() throws InterruptedException {
    stopping.set(true);
    realClients.shutdownNow();
    realClients.awaitTermination(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void aBurstOfAbandonedRequestsLeavesWithinSecondsWhileRealRequestsAreServed() throws Exception {
    assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "the proxy reads closed connections from Linux's table");
    tunnel =
        TunnelFixture.start(
            config -> config
                .backendSetting("maxQueued", BURST * 2)
                .backendSetting("queueTimeoutSeconds", DEADLINE_SECONDS)
                .backendSetting("responseTimeoutSeconds", DEADLINE_SECONDS)
                .set("pollWaitSeconds", 20),
            List.of("--concurrency", Integer.toString(AGENT_CONCURRENCY)));
    tunnel.backend().respondTo("/abandoned", Responders.stall());
    for (int i = 0; i < REAL_CLIENTS; i++) {
      int clientNumber = i;
      realClients.execute(() -> realTraffic(clientNumber));
    }

    AbandonedBurst.send(tunnel.proxy().baseUrl(), "/abandoned", BURST);
    long burstEnded = System.nanoTime();
    long servedAtBurstEnd = served.get();

    // Each real client has at most one request live; anything beyond is an abandoned one.
    await("the abandoned requests are gone").atMost(CLEARED_WITHIN).pollInterval(Duration.ofMillis(100))
        .until(() -> tunnel.status().liveExchanges(), live -> live <= REAL_CLIENTS);
    Duration cleared = Duration.ofNanos(System.nanoTime() - burstEnded);
    awaitServed(servedAtBurstEnd + REAL_CLIENTS * 3L);
    stopping.set(true);
    realClients.shutdown();
    assertTrue(realClients.awaitTermination(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the real clients finished");

    System.out.println("abandoned burst of " + BURST + " cleared " + cleared.toMillis() + " ms after it ended; "
        + served.get() + " real requests served");
    assertEquals(List.of(), List.copyOf(problems), "every real request got its own 200");
    tunnel.awaitIdle(WAIT);
    assertEquals(0, tunnel.status().backend(TunnelFixture.BACKEND_ID).agents().get(0).inFlight(),
        "the agent holds nothing for the abandoned requests");
  }

  private void realTraffic(int clientNumber) {
    for (long seq = 0; !stopping.get(); seq++) {
      String target = "/real?client=" + clientNumber + "&n=" + seq;
      try {
        HttpResponse<String> response =
            client.send(
                HttpRequest.newBuilder(tunnel.uri(target)).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
          problems.add(target + " -> " + response.statusCode() + ": " + response.body().strip());
        } else if (!Json.fromJson(response.body(), RecordedRequest.class).target().equals(target)) {
          problems.add(target + " -> the echo of another request");
        } else {
          served.incrementAndGet();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        if (!stopping.get()) {
          problems.add(target + " -> " + e);
        }
      }
    }
  }

  private void awaitServed(long atLeast) {
    await("real requests go on being served")
        .atMost(WAIT)
        .until(served::get, count -> count >= atLeast);
  }
}
