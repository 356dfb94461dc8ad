package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.ForkedProxyServer;
import dev.drawbridge.it.support.ProcessStats;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.ProxyServerMain;
import dev.drawbridge.it.support.SoakTraffic;
import dev.drawbridge.it.support.Tokens;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Steady mixed traffic for {@code soak.seconds} (20 by default; e.g. {@code -Dsoak.seconds=600}
 * for a real soak) while the agent is killed and restarted, stopped gracefully and restarted, and
 * the backend goes down and comes back twice. Every answer must be the echo of its own request or
 * a documented error; nothing may hang. Afterwards the proxy, a child JVM with a bounded heap, is
 * back to the threads, open files and heap it had before the soak.
 */
@Timeout(value = 30, unit = TimeUnit.MINUTES)
class SoakIT {

  private static final Duration SOAK = Duration.ofSeconds(Long.getLong("soak.seconds", 20));
  private static final Duration WARM_UP = Duration.ofSeconds(4);
  private static final int CLIENTS = 6;
  private static final int PROXY_HEAP_MB = 128;
  private static final int PROXY_THREADS = 32;
  /** Longer than any deadline of the proxy below: a request without an answer by then hung. */
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  /** How long the backend stays down when it bounces. */
  private static final Duration BACKEND_OUTAGE = Duration.ofMillis(500);
  private static final Duration WAIT = Duration.ofSeconds(60);
  /** What "back near the baseline" allows: JVM threads that come and go, pooled connections, GC noise. */
  private static final int THREAD_SLACK = 6;
  private static final int FILE_SLACK = 24;
  private static final long HEAP_SLACK_BYTES = 16L * 1024 * 1024;

  private final String token = Tokens.random();
  private Backend backend;
  private ForkedProxyServer proxy;
  private AgentProcess agent;
  private final java.util.concurrent.atomic.AtomicInteger agentsStarted = new java.util.concurrent.atomic.AtomicInteger();
  private String lastAgentId;
  private SoakTraffic traffic;

  @AfterEach
  void stop() {
    if (traffic != null) {
      traffic.close();
    }
    if (agent != null) {
      agent.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  @Test
  void mixedTrafficThroughAgentRestartsAndBackendBouncesStaysCorrectAndLeavesNothingBehind() throws Exception {
    backend = Backend.start();
    proxy =
        ProxyServer.forked(
            ProxyConfig.singleBackend("default", Tokens.sha256Hex(token))
                .set("pollWaitSeconds", 2)
                .set("agentGraceSeconds", 2)
                .set("idleTimeoutSeconds", 5)
                .set("retryAfterSeconds", 1)
                .backendSetting("queueTimeoutSeconds", 10)
                .backendSetting("responseTimeoutSeconds", 10)
                .toJson(),
            PROXY_HEAP_MB,
            ProxyServer.Options.DEFAULT.withMaxThreads(PROXY_THREADS),
            List.of(ProxyServerMain.QUIET_ACCESS_LOG));
    agent = startAgent();

    ProcessStats.Snapshot baseline = trafficFor(WARM_UP, false);
    System.out.println("soak baseline after " + WARM_UP.toSeconds() + " s of traffic: " + baseline);
    traffic = SoakTraffic.start(proxy.baseUrl(), CLIENTS, REQUEST_TIMEOUT);
    long matchedBeforeSoak = traffic.count(SoakTraffic.Outcome.MATCHED);
    disrupt();
    ProcessStats.Snapshot after = settle(traffic);
    System.out.println("soak of " + SOAK.toSeconds() + " s: " + traffic.counts() + "; proxy afterwards: " + after);

    assertEquals(List.of(), traffic.problems(), "every answer is its request's echo or a documented error");
    for (SoakTraffic.Outcome failure : SoakTraffic.FAILURES) {
      assertEquals(0, traffic.count(failure), failure + ": " + traffic.counts());
    }
    assertTrue(traffic.count(SoakTraffic.Outcome.MATCHED) > matchedBeforeSoak, "traffic went through");
    assertTrue(
        traffic.count(SoakTraffic.Outcome.CUT) <= (long) CLIENTS * 4,
        () -> "connections are cut only when a response broke off during one of the 4 disruptions: " + traffic.counts());
    trafficFor(Duration.ofSeconds(2), true);
    assertTrue(proxy.isAlive(), () -> "the proxy JVM died; its output:\n" + String.join("\n", proxy.lines()));
    assertTrue(after.threads() <= baseline.threads() + THREAD_SLACK, () -> "threads: " + baseline + " -> " + after);
    assertTrue(after.openFiles() <= baseline.openFiles() + FILE_SLACK, () -> "open files: " + baseline + " -> " + after);
    assertTrue(
        after.heapUsedBytes() <= baseline.heapUsedBytes() + HEAP_SLACK_BYTES, () -> "heap: " + baseline + " -> " + after);
  }

  /**
   * The schedule: agent killed and restarted, backend bounced, agent stopped gracefully and
   * restarted, backend bounced, each a fifth of the soak after the previous one.
   */
  private void disrupt() throws Exception {
    Duration step = SOAK.dividedBy(5);
    pace(traffic, step);
    agent.kill();
    agent = startAgent();
    String agentId = lastAgentId;
    pace(traffic, step);
    bounceBackend();
    pace(traffic, step);
    // A SIGTERM before the agent's JVM even runs its main method ends it with 143, drain or not; on
    // a starved machine that start can take longer than the step, so stop it once it polled.
    awaitPolling(agentId);
    assertEquals(0, agent.stop(WAIT), "a drained agent exits 0");
    agent = startAgent();
    pace(traffic, step);
    bounceBackend();
    pace(traffic, step);
  }

  private void bounceBackend() throws InterruptedException {
    backend.stop();
    pace(traffic, BACKEND_OUTAGE);
    backend.restart();
  }

  /** Runs clean traffic for {@code duration} (every answer must match), lets it settle, and measures the proxy. */
  private ProcessStats.Snapshot trafficFor(Duration duration, boolean mustAllMatch) throws Exception {
    SoakTraffic clean = SoakTraffic.start(proxy.baseUrl(), CLIENTS, REQUEST_TIMEOUT);
    try {
      pace(clean, duration);
      ProcessStats.Snapshot settled = settle(clean);
      long matched = clean.count(SoakTraffic.Outcome.MATCHED);
      assertTrue(matched > 0, "traffic went through");
      if (mustAllMatch) {
        assertEquals(
            matched, clean.counts().values().stream().mapToLong(Long::longValue).sum(), () -> "after the soak: " + clean.counts());
      }
      return settled;
    } finally {
      clean.close();
    }
  }

  /** Stops {@code running}, waits until the proxy holds no exchange and one agent, and measures it. */
  private ProcessStats.Snapshot settle(SoakTraffic running) throws InterruptedException {
    running.stop();
    await("the proxy is idle with one agent")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> AdminStatus.read(proxy.baseUrl()),
            s -> s.idle() && s.backend("default").agents().size() == 1);
    return ProcessStats.take(proxy.pid());
  }

  /** Waits until the proxy has seen a poll of the agent {@code agentId}. */
  private void awaitPolling(String agentId) {
    await("agent " + agentId + " polls the proxy")
        .atMost(WAIT)
        .until(() -> AdminStatus.read(proxy.baseUrl()).backend("default").agents().stream()
            .anyMatch(connected -> connected.id().equals(agentId)));
  }

  private AgentProcess startAgent() {
    lastAgentId = "soak-agent-" + agentsStarted.incrementAndGet();
    List<String> flags = new ArrayList<>(AgentProcess.flags(proxy.baseUrl(), backend.url(), "default", token));
    flags.addAll(List.of(
        "--agent-id", lastAgentId,
        "--log-level", "warn",
        "--max-backoff", "1s",
        "--connect-timeout", "2s",
        "--backend-timeout", "5s",
        "--proxy-timeout", "10s",
        "--drain-timeout", "5s"));
    return AgentProcess.start(flags);
  }

  /**
   * Lets {@code running} go on for {@code duration}, the schedule's clock; a request that fails the
   * test ends the soak at once.
   */
  private static void pace(SoakTraffic running, Duration duration) throws InterruptedException {
    if (running.awaitFailure(duration)) {
      throw new AssertionError("a soak request failed: " + running.problems() + "; so far " + running.counts());
    }
  }
}
