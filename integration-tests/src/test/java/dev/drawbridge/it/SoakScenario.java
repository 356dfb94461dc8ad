package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AbandonedBurst;
import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.ProcessStats;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyProcess;
import dev.drawbridge.it.support.SoakTraffic;
import dev.drawbridge.it.support.ThreadDump;
import dev.drawbridge.it.support.Tokens;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Steady mixed traffic for {@code soak.seconds} (20 by default; e.g. {@code -Dsoak.seconds=600}
 * for a real soak) while faults follow one another: the agent, run with a fixed {@code
 * --agent-id}, is killed with SIGKILL and restarted under the same id; the backend goes down and
 * comes back; the agent is stopped with SIGTERM and restarted; {@code soak.abortBurst} requests
 * (2,000 by default) are sent and dropped at once; the backend bounces again. Every answer must be
 * the echo of its own request or a documented error; nothing may hang; no thread of the proxy may
 * deadlock, checked after every fault. Afterwards the proxy, a JVM of its own with a bounded heap,
 * is back to the threads (outside the container's request pool), open files and heap it had
 * before the soak. Each subclass runs it in one container.
 */
@Timeout(value = 30, unit = TimeUnit.MINUTES)
abstract class SoakScenario {

  private static final Duration SOAK = Duration.ofSeconds(Long.getLong("soak.seconds", 20));
  private static final int ABORT_BURST = Integer.getInteger("soak.abortBurst", 2_000);
  private static final Duration WARM_UP = Duration.ofSeconds(4);
  private static final int CLIENTS = 6;
  /** Run with a fixed id, as in a service unit: a restart must be told apart by its instance. */
  private static final String AGENT_ID = "soak-agent";
  /** Longer than any deadline of the proxy below: a request without an answer by then hung. */
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  /** How long the backend stays down when it bounces. */
  private static final Duration BACKEND_OUTAGE = Duration.ofMillis(500);
  private static final Duration WAIT = Duration.ofSeconds(60);
  /** What "back near the baseline" allows: JVM threads that come and go, pooled connections, GC noise. */
  private static final int THREAD_SLACK = 6;
  private static final int FILE_SLACK = 24;
  private static final long HEAP_SLACK_BYTES = 16L * 1024 * 1024;
  /** How long threads the soak started (pooled connections, the proxy's own) may take to end. */
  private static final Duration THREADS_SETTLE = Duration.ofSeconds(60);
  /** Faults that may cut a response that was streaming when they struck. */
  private static final int CUTTING_FAULTS = 4;

  /**
   * The proxy's heap: enough for the burst's 2,000 connections open at once (Tomcat keeps more per
   * connection than Jetty: 128 MiB ran out), small enough that buffering whole bodies would show.
   */
  protected static final int PROXY_HEAP_MB = 256;
  protected static final int PROXY_THREADS = 32;

  private final String token = Tokens.random();
  private Backend backend;
  private ProxyProcess proxy;
  private AgentProcess agent;
  private SoakTraffic traffic;
  /** When the current agent process was started. */
  private Instant agentStarted;

  /** Starts the proxy with {@code configJson} in a JVM of its own. */
  protected abstract ProxyProcess startProxy(String configJson);

  /** Checks what only this container can tell, once the soak is over and the proxy still runs. */
  protected void checkAfterSoak(ProxyProcess proxy) {}

  /**
   * Names of the container's request threads, a pool it sizes itself up to {@link
   * #maxRequestThreads()}: the soak compares the proxy's other threads with the baseline.
   */
  protected abstract Pattern requestThreadNames();

  /** Most request threads the container may keep. */
  protected abstract int maxRequestThreads();

  /**
   * Heap the container keeps after a load by design, bounded: Tomcat caches up to {@code
   * processorCache} (200) idle request processors, each about 100 KB once it carried a streamed
   * response (see tomcat-conf/README.md).
   */
  protected long containerCacheBytes() {
    return 0;
  }

  /** What {@link #containerCacheBytes()} allows for Tomcat's processor cache. */
  protected static final long TOMCAT_PROCESSOR_CACHE_BYTES = 200L * 128 * 1024;

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
  void mixedTrafficThroughFaultsStaysCorrectAndLeavesNothingBehind() throws Exception {
    backend = Backend.start();
    proxy =
        startProxy(
            ProxyConfig.singleBackend("default", Tokens.sha256Hex(token))
                .set("pollWaitSeconds", 2)
                .set("agentGraceSeconds", 2)
                .set("idleTimeoutSeconds", 5)
                .set("retryAfterSeconds", 1)
                .backendSetting("queueTimeoutSeconds", 10)
                .backendSetting("responseTimeoutSeconds", 10)
                .toJson());
    agent = startAgent();

    ProcessStats.Snapshot baseline = trafficFor(WARM_UP, false);
    int baselineOwnThreads = ownThreads();
    System.out.println("soak baseline after " + WARM_UP.toSeconds() + " s of traffic: " + baseline + ", "
        + baselineOwnThreads + " threads outside the request pool");
    traffic = SoakTraffic.start(proxy.baseUrl(), CLIENTS, REQUEST_TIMEOUT);
    long matchedBeforeSoak = traffic.count(SoakTraffic.Outcome.MATCHED);
    disrupt();
    settle(traffic);
    int ownThreadsAfter = ownThreadsBackTo(baselineOwnThreads);
    ProcessStats.Snapshot after = ProcessStats.take(proxy.pid());
    System.out.println("soak of " + SOAK.toSeconds() + " s: " + traffic.counts() + ", errors by status "
        + traffic.errorStatuses() + "; proxy afterwards: " + after + ", " + ownThreadsAfter
        + " threads outside the request pool");

    assertEquals(List.of(), traffic.problems(), "every answer is its request's echo or a documented error");
    for (SoakTraffic.Outcome failure : SoakTraffic.FAILURES) {
      assertEquals(0, traffic.count(failure), failure + ": " + traffic.counts());
    }
    assertTrue(traffic.count(SoakTraffic.Outcome.MATCHED) > matchedBeforeSoak, "traffic went through");
    assertTrue(
        traffic.count(SoakTraffic.Outcome.CUT) <= (long) CLIENTS * CUTTING_FAULTS,
        () -> "connections are cut only when a response broke off during a fault: " + traffic.counts());
    trafficFor(Duration.ofSeconds(2), true);
    assertTrue(proxy.isAlive(), () -> "the proxy JVM died; its output:\n" + String.join("\n", proxy.lines()));
    checkAfterSoak(proxy);
    assertTrue(ownThreadsAfter <= baselineOwnThreads + THREAD_SLACK,
        () -> "threads outside the request pool: " + baselineOwnThreads + " -> " + ownThreadsAfter);
    assertTrue(after.threads() <= baseline.threads() + maxRequestThreads(),
        () -> "threads: " + baseline + " -> " + after + ", more than the request pool explains");
    assertTrue(after.openFiles() <= baseline.openFiles() + FILE_SLACK, () -> "open files: " + baseline + " -> " + after);
    assertTrue(
        after.heapUsedBytes() <= baseline.heapUsedBytes() + HEAP_SLACK_BYTES + containerCacheBytes(),
        () -> "heap: " + baseline + " -> " + after);
  }

  /** The schedule: each fault a sixth of the soak after the previous one, no deadlock after any. */
  private void disrupt() throws Exception {
    Duration step = SOAK.dividedBy(6);
    pace(traffic, step);
    agent.kill();
    agent = startAgent();
    noDeadlock("the agent was killed and restarted");
    pace(traffic, step);
    bounceBackend();
    noDeadlock("the backend bounced");
    pace(traffic, step);
    // A SIGTERM before the agent's JVM even runs its main method ends it with 143, drain or not; on
    // a starved machine that start can take longer than the step, so stop it once it polled.
    awaitPolling();
    assertEquals(0, agent.stop(WAIT), "a drained agent exits 0");
    agent = startAgent();
    noDeadlock("the agent was stopped and restarted");
    pace(traffic, step);
    AbandonedBurst.send(proxy.baseUrl(), "/soak/abandoned", ABORT_BURST);
    noDeadlock(ABORT_BURST + " requests were sent and dropped");
    pace(traffic, step);
    bounceBackend();
    noDeadlock("the backend bounced again");
    pace(traffic, step);
  }

  private void noDeadlock(String after) {
    String deadlocks = ThreadDump.deadlocks(proxy.pid());
    assertNull(deadlocks, () -> "the proxy deadlocked after " + after + ":\n" + deadlocks);
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

  /**
   * The proxy's threads outside the container's request pool. The pool is the container's: Tomcat
   * keeps the threads a burst started as long as any traffic goes on, since it hands each task to
   * the idle thread that waited longest, so none stays idle for its 60 s; it never exceeds
   * maxThreads. Every other thread (the proxy's own, the JVM's) must be back to the baseline.
   */
  private int ownThreads() {
    Pattern pool = requestThreadNames();
    return (int) ThreadDump.threadNames(proxy.pid()).stream().filter(name -> !pool.matcher(name).matches()).count();
  }

  /** Waits until the threads outside the request pool are back near {@code baseline}; returns their count. */
  private int ownThreadsBackTo(int baseline) {
    return await("the proxy's threads outside the request pool are back near " + baseline)
        .atMost(THREADS_SETTLE)
        .pollInterval(Duration.ofSeconds(1))
        .until(this::ownThreads, threads -> threads <= baseline + THREAD_SLACK);
  }

  /** Waits until the proxy lists a session of the current agent process, which then polls. */
  private void awaitPolling() {
    Instant started = agentStarted;
    await("the agent started at " + started + " polls the proxy")
        .atMost(WAIT)
        .until(() -> AdminStatus.read(proxy.baseUrl()).backend("default").agents().stream()
            .anyMatch(connected -> !Instant.parse(connected.connectedSince()).isBefore(started)));
  }

  private AgentProcess startAgent() {
    // Truncated like the proxy's clock may be: a session of this process is never listed earlier.
    agentStarted = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    List<String> flags = new ArrayList<>(AgentProcess.flags(proxy.baseUrl(), backend.url(), "default", token));
    flags.addAll(List.of(
        "--agent-id", AGENT_ID,
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
