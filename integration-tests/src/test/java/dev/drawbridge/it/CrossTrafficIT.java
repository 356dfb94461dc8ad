package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Bodies;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many polls, response batches, streamed responses and streamed request bodies crossing at once,
 * through two agents, with a watchdog for deadlocked threads in the proxy's container. Work that
 * one connection hands to another (a client answering a parked poll, a batch delivering to
 * clients, the body relays) deadlocked on Tomcat under this kind of load before the hand-off rule.
 */
@Timeout(240)
class CrossTrafficIT {

  /** Requests in all; bounded so the test ends on its own on a slow machine. */
  private static final int REQUESTS = 4_000;

  /** Requests in flight at once. */
  private static final int IN_FLIGHT = 96;

  private static final int STREAMED_BYTES = 200 * 1024;
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration WATCH_EVERY = Duration.ofMillis(500);

  /** Mixed traffic: batched small answers, streamed downloads and streamed uploads at once. */
  @Test
  void crossingTrafficCompletesWithoutDeadlock() throws Exception {
    crossTraffic(List.of("--concurrency", "48", "--polls", "6"), IN_FLIGHT, 4);
  }

  /**
   * Small answers only, with more polls parked than requests in flight: each client's request
   * answers a parked poll from the client's thread, and each answer comes back in a batch on
   * another of the agents' connections, the crossing that deadlocked on Tomcat.
   */
  @Test
  void clientsAnsweringParkedPollsCompleteWithoutDeadlock() throws Exception {
    crossTraffic(List.of("--concurrency", "64", "--polls", "16"), 24, 1);
  }

  private void crossTraffic(List<String> agentFlags, int inFlight, int kinds) throws Exception {
    try (TunnelFixture tunnel = TunnelFixture.start(config -> config, agentFlags)) {
      tunnel.backend()
          .respondTo("/small", Responders.fixed(200, "text/plain", "small"))
          .respondTo("/streamed", Responders.download(STREAMED_BYTES))
          .respondByDefault(Responders.echo());
      List<String> secondFlags =
          new ArrayList<>(AgentProcess.flags(tunnel.proxy().baseUrl(), tunnel.backend().url(), TunnelFixture.BACKEND_ID, tunnel.token()));
      secondFlags.addAll(agentFlags);
      try (AgentProcess second = AgentProcess.start(secondFlags)) {
        second.awaitLine(AgentProcess.CONNECTED, TunnelFixture.STARTUP);
        AtomicReference<String> deadlock = new AtomicReference<>();
        ExecutorService clientThreads = Executors.newFixedThreadPool(8);
        ScheduledExecutorService watchdog = startWatchdog(deadlock);
        try {
          run(tunnel, clientThreads, deadlock, inFlight, kinds);
        } finally {
          watchdog.shutdownNow();
          clientThreads.shutdownNow();
        }
        assertNull(deadlock.get(), "the proxy's container threads deadlocked");
        tunnel.awaitIdle(Duration.ofSeconds(30));
      }
    }
  }

  /** Sends {@link #REQUESTS}, {@code inFlight} at once, of the first {@code kinds} kinds in turn. */
  private static void run(
      TunnelFixture tunnel, ExecutorService clientThreads, AtomicReference<String> deadlock, int inFlight, int kinds)
      throws Exception {
    HttpClient client =
        HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(clientThreads).build();
    Semaphore slots = new Semaphore(inFlight);
    byte[] upload = Bodies.pattern(128 * 1024).readAllBytes();
    byte[] streamed = Bodies.pattern(STREAMED_BYTES).readAllBytes();
    List<CompletableFuture<Void>> calls = new ArrayList<>();
    for (int i = 0; i < REQUESTS && deadlock.get() == null; i++) {
      if (!slots.tryAcquire(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        throw new AssertionError("no request finished within " + CALL_TIMEOUT + " (" + i + " sent)");
      }
      CompletableFuture<Void> call =
          switch (kinds == 1 ? 0 : i % kinds) {
            case 0, 1 -> client
                .sendAsync(get(tunnel.uri("/small?i=" + i)), HttpResponse.BodyHandlers.ofString())
                .thenAccept(response -> assertEquals("200 small", response.statusCode() + " " + response.body()));
            case 2 -> client
                .sendAsync(get(tunnel.uri("/streamed?i=" + i)), HttpResponse.BodyHandlers.ofByteArray())
                .thenAccept(
                    response -> {
                      assertEquals(200, response.statusCode());
                      assertArrayEquals(streamed, response.body());
                    });
            default -> client
                .sendAsync(
                    HttpRequest.newBuilder(tunnel.uri("/upload?i=" + i))
                        .timeout(CALL_TIMEOUT)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(upload))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .thenAccept(response -> assertEquals(200, response.statusCode(), response.body()));
          };
      calls.add(call.whenComplete((ignored, failure) -> slots.release()));
    }
    CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }

  private static HttpRequest get(URI uri) {
    return HttpRequest.newBuilder(uri).timeout(CALL_TIMEOUT).GET().build();
  }

  /** Checks the JVM (which runs the proxy's container) for deadlocked threads every so often. */
  private static ScheduledExecutorService startWatchdog(AtomicReference<String> deadlock) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    ScheduledExecutorService watchdog =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "deadlock-watchdog");
              thread.setDaemon(true);
              return thread;
            });
    watchdog.scheduleWithFixedDelay(
        () -> {
          long[] ids = threads.findDeadlockedThreads();
          if (ids != null && deadlock.get() == null) {
            StringBuilder dump = new StringBuilder();
            for (ThreadInfo info : threads.getThreadInfo(ids, true, true)) {
              dump.append(info);
            }
            deadlock.set(dump.toString());
          }
        },
        WATCH_EVERY.toMillis(),
        WATCH_EVERY.toMillis(),
        TimeUnit.MILLISECONDS);
    return watchdog;
  }
}
