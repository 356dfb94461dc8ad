package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.UnixOperatingSystemMXBean;
import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.Containers;
import dev.drawbridge.it.support.ForkedProxyServer;
import dev.drawbridge.it.support.HeldClients;
import dev.drawbridge.it.support.ProcessStats;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.ProxyServerMain;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Tokens;
import dev.drawbridge.protocol.Json;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * 10,000 clients wait at once in a proxy with a bounded heap while no agent is connected; then an
 * agent connects and each gets its own answer, exactly once. Waiting holds no thread: a proxy whose
 * server has 48 threads queues all 10,000, and has no more threads with 10,000 waiting than with
 * 500. The clients are non-blocking sockets on one selector, so this test needs no 10,000 threads
 * either, only as many open files.
 */
@Timeout(600)
class ManyWaitingClientsIT {

  private static final int WAITING = 10_000;
  private static final int BASELINE = 500;
  private static final int BATCH = 1_000;
  /**
   * The proxy's thread pool: far fewer threads than waiting clients, which only a proxy that holds
   * no thread per waiting request can serve.
   */
  private static final int PROXY_THREADS = 48;
  /**
   * The design's target: 10,000 waiting clients in 256 MiB of heap (the child exits on
   * OutOfMemoryError). Tomcat's connector buffers need more; see {@link Containers#heapPerHeldRequestKib}.
   */
  private static final int PROXY_HEAP_MB =
      Math.max(256, 64 + WAITING * Containers.heapPerHeldRequestKib() / 1024);
  /** Threads the proxy may add while 9,500 more clients arrive: noise, not one per client. */
  private static final int THREAD_SLACK = 16;
  /** Open files this test needs in each process: one per client, and some for the JVM itself. */
  private static final long FILES_NEEDED = WAITING + 2_000;
  private static final Duration QUEUED_WITHIN = Duration.ofSeconds(60);
  private static final Duration ANSWERED_WITHIN = Duration.ofSeconds(120);
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void tenThousandWaitingClientsHoldNoThreadAndEachGetsItsOwnAnswerOnce() throws Exception {
    long started = System.nanoTime();
    long files = openFileLimit();
    assumeTrue(files >= FILES_NEEDED,
        "holding " + WAITING + " clients needs 'ulimit -n' of at least " + FILES_NEEDED + "; this machine allows " + files);
    String token = Tokens.random();
    String config =
        ProxyConfig.singleBackend("default", Tokens.sha256Hex(token))
            .backendSetting("maxQueued", 2 * WAITING)
            .backendSetting("maxInFlight", 2 * WAITING)
            .backendSetting("queueTimeoutSeconds", 180)
            .toJson();
    try (Backend backend = Backend.start();
        ForkedProxyServer proxy =
            ProxyServer.forked(
                config,
                PROXY_HEAP_MB,
                ProxyServer.Options.DEFAULT
                    .withIdleTimeout(Duration.ofMinutes(4))
                    .withMaxThreads(PROXY_THREADS)
                    .withAcceptQueueSize(BATCH),
                List.of(ProxyServerMain.QUIET_ACCESS_LOG));
        HeldClients clients = HeldClients.to(proxy.port())) {
      Set<String> targets = new HashSet<>();
      holdUntilQueued(proxy, clients, BASELINE, targets);
      int threadsWithFewWaiting = ProcessStats.threads(proxy.pid());
      holdUntilQueued(proxy, clients, WAITING, targets);
      int threadsWithManyWaiting = ProcessStats.threads(proxy.pid());
      ProcessStats.Snapshot whileWaiting = ProcessStats.take(proxy.pid());
      System.out.println("proxy with " + BASELINE + " waiting: " + threadsWithFewWaiting + " threads; with " + WAITING
          + " waiting: " + whileWaiting + "; all queued after " + Duration.ofNanos(System.nanoTime() - started));

      assertTrue(threadsWithManyWaiting <= threadsWithFewWaiting + THREAD_SLACK,
          () -> "threads grew from " + threadsWithFewWaiting + " to " + threadsWithManyWaiting + " with the waiting clients");
      assertTrue(whileWaiting.openFiles() >= WAITING, "every client's connection is open at the proxy");

      // One line per exchange would be 10,000 lines; warnings are what this test wants to see.
      List<String> agentFlags = new ArrayList<>(AgentProcess.flags(proxy.baseUrl(), backend.url(), "default", token));
      agentFlags.addAll(List.of("--log-level", "warn"));
      try (AgentProcess agent = AgentProcess.start(agentFlags)) {
        Map<String, HeldClients.Answer> answers = clients.awaitAnswers(ANSWERED_WITHIN);
        System.out.println("all answered after " + Duration.ofNanos(System.nanoTime() - started));
        for (Map.Entry<String, HeldClients.Answer> answer : answers.entrySet()) {
          assertEquals(200, answer.getValue().status(), () -> answer.getKey() + ": " + answer.getValue().body());
          assertEquals(backendTarget(answer.getKey()), Json.fromJson(answer.getValue().body(), RecordedRequest.class).target());
        }
        List<RecordedRequest> received = backend.drainRequests();
        assertEquals(WAITING, received.size(), "each request reached the backend once");
        assertEquals(
            targets.stream().map(ManyWaitingClientsIT::backendTarget).collect(Collectors.toSet()),
            received.stream().map(RecordedRequest::target).collect(Collectors.toSet()));
        await("all exchanges freed")
            .atMost(WAIT)
            .until(() -> AdminStatus.read(proxy.baseUrl()), AdminStatus::idle);
      }
      assertTrue(proxy.isAlive(), () -> "the proxy JVM died; its output:\n" + String.join("\n", proxy.lines()));
    }
  }

  /** Adds clients in batches until {@code total} wait, each batch queued before the next connects. */
  private static void holdUntilQueued(ForkedProxyServer proxy, HeldClients clients, int total, Set<String> targets) {
    while (clients.size() < total) {
      int batchEnd = Math.min(total, clients.size() + BATCH);
      for (int i = clients.size(); i < batchEnd; i++) {
        String target = ProxyServer.CONTEXT_PATH + "/waiting/" + i;
        targets.add(target);
        clients.send(target);
      }
      await("clients queued at the proxy")
          .atMost(QUEUED_WITHIN)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> AdminStatus.read(proxy.baseUrl()).totalQueued() == batchEnd);
    }
  }

  /** What the backend sees of a client's target: the same, below the proxy's context path. */
  private static String backendTarget(String clientTarget) {
    return clientTarget.substring(ProxyServer.CONTEXT_PATH.length());
  }

  private static long openFileLimit() {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    return os instanceof UnixOperatingSystemMXBean unix ? unix.getMaxFileDescriptorCount() : 0;
  }
}
