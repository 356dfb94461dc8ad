package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.ClusterTraffic;
import dev.drawbridge.it.support.Haproxy;
import dev.drawbridge.it.support.ProcessStats;
import dev.drawbridge.it.support.ProxyCluster;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.Tokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A bounded simulation of the design at scale on loopback: several proxy nodes behind HAProxy, many
 * agents (one backend each, several per agent process, as teams publishing their own services
 * would run them), steady traffic spread over every backend. It measures what docs/scaling.md
 * reports: each node's share of requests, agents and connections per node, a node's memory per
 * agent, and recovery after a node is killed and started again. Small by default, so it runs with
 * every build; {@code -Dscale.agentProcesses=5 -Dscale.agentsPerProcess=10 -Dscale.seconds=60}
 * is the documented run. The report goes to {@code target/cluster-scale.md}.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class ClusterScaleIT {

  private static final int NODES = Integer.getInteger("scale.nodes", 4);
  private static final int AGENT_PROCESSES = Integer.getInteger("scale.agentProcesses", 2);
  private static final int AGENTS_PER_PROCESS = Integer.getInteger("scale.agentsPerProcess", 4);
  private static final Duration STEADY = Duration.ofSeconds(Integer.getInteger("scale.seconds", 10));
  private static final int CLIENTS = Integer.getInteger("scale.clients", 8);
  private static final Duration CHECK_INTERVAL = Duration.ofSeconds(1);
  /** How long the killed node stays down: long enough for the agents' backoff to grow. */
  private static final Duration DOWN_FOR = Duration.ofSeconds(10);
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final int POLLS = 2;

  private final String token = Tokens.random();
  private final List<AgentProcess> agents = new ArrayList<>();
  private final StringBuilder report = new StringBuilder();
  private Backend backend;
  private ProxyCluster cluster;
  private Haproxy haproxy;
  private ClusterTraffic traffic;

  @AfterEach
  void stopAll() throws IOException {
    List<AutoCloseable> parts = new ArrayList<>();
    parts.add(traffic);
    parts.addAll(agents);
    parts.addAll(List.of(haproxy == null ? () -> { } : haproxy, cluster == null ? () -> { } : cluster,
        backend == null ? () -> { } : backend));
    for (AutoCloseable part : parts) {
      try {
        if (part != null) {
          part.close();
        }
      } catch (Exception e) {
        // Cleanup only.
      }
    }
    Path file = Path.of("target", "cluster-scale.md");
    Files.createDirectories(file.getParent());
    Files.writeString(file, report, StandardCharsets.UTF_8);
  }

  @Test
  void manyAgentsOverSeveralNodesShareTheLoadAndRecoverFromANodeLoss() throws Exception {
    assumeTrue(Haproxy.isInstalled(), "Debian's haproxy is not installed (.ci/run installs it)");
    int agentCount = AGENT_PROCESSES * AGENTS_PER_PROCESS;
    List<String> backends = IntStream.range(0, agentCount).mapToObj(i -> String.format(Locale.ROOT, "b%02d", i)).toList();
    backend = Backend.start();
    ProxyConfig config = new ProxyConfig().set("trustedProxies", List.of("127.0.0.1"));
    List<Map<String, Object>> routes = new ArrayList<>();
    for (String id : backends) {
      config.backend(id, Tokens.sha256Hex(token));
      routes.add(Map.of("pathPrefix", "/" + id, "backend", id));
    }
    config.set("routes", routes);
    cluster = ProxyCluster.reserve(config, NODES);
    for (int i = 0; i < NODES; i++) {
      cluster.start(i);
    }
    int[] all = IntStream.range(0, NODES).toArray();
    cluster.publish(all);
    List<ProcessStats.Snapshot> bare = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      bare.add(ProcessStats.take(cluster.node(i).pid()));
    }
    haproxy = Haproxy.start(cluster.balancerServers(), CHECK_INTERVAL);
    // The first agent process alone, then the others: the difference is what further agents cost,
    // without what the first one costs once (classes, caches, pools).
    long attachStarted = System.nanoTime();
    startAgents(0, 1, backends);
    for (int i = 0; i < NODES; i++) {
      awaitAgents(i, AGENTS_PER_PROCESS);
    }
    List<NodeFigures> few = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      few.add(figures(i, bare.get(i)));
    }
    startAgents(1, AGENT_PROCESSES, backends);
    for (int i = 0; i < NODES; i++) {
      awaitAgents(i, agentCount);
    }
    Duration attachedIn = since(attachStarted);
    for (int i = 0; i < NODES; i++) {
      awaitBalancer(ProxyCluster.name(i), "UP");
    }
    List<NodeFigures> idle = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      idle.add(figures(i, few.get(i).loaded()));
    }

    // Steady load over every backend.
    traffic = ClusterTraffic.start(haproxy.baseUrl(), backends.stream().map(id -> "/" + id).toList(), CLIENTS,
        Duration.ofSeconds(30));
    // Warm-up first: the nodes' and agents' JIT, connection pools and buffers.
    TimeUnit.NANOSECONDS.sleep(STEADY.toNanos());
    long steadyFrom = System.nanoTime();
    TimeUnit.NANOSECONDS.sleep(STEADY.toNanos());
    long steadyTo = System.nanoTime();
    List<NodeFigures> loaded = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      loaded.add(figures(i, bare.get(i)));
    }
    List<ClusterTraffic.Outcome> steady = between(steadyFrom, steadyTo);
    List<ProcessStats.Snapshot> agentStats = new ArrayList<>();
    for (AgentProcess agent : agents) {
      agentStats.add(ProcessStats.take(agent.pid()));
    }

    // A node dies under load, stays down for a while, and comes back.
    long killed = System.nanoTime();
    cluster.kill(0);
    awaitBalancer("n1", "DOWN");
    Duration takenOutIn = since(killed);
    TimeUnit.NANOSECONDS.sleep(Math.max(0, DOWN_FOR.toNanos() - (System.nanoTime() - killed)));
    long restarted = System.nanoTime();
    cluster.start(0);
    Duration startedIn = since(restarted);
    long nodeUp = System.nanoTime();
    awaitAgents(0, agentCount);
    Duration reattachedIn = since(nodeUp);
    awaitBalancer("n1", "UP");
    Duration backInBalancerIn = since(nodeUp);
    long afterFrom = System.nanoTime();
    TimeUnit.NANOSECONDS.sleep(STEADY.toNanos());
    long afterTo = System.nanoTime();
    traffic.stop();

    List<ClusterTraffic.Outcome> outcomes = traffic.outcomes();
    List<ClusterTraffic.Outcome> failed = outcomes.stream().filter(o -> !o.matched()).toList();
    long lastFailure = failed.stream().mapToLong(ClusterTraffic.Outcome::endNanos).max().orElse(killed);
    List<ClusterTraffic.Outcome> after = between(afterFrom, afterTo);

    reportRun(agentCount, attachedIn, steady, idle, loaded, agentStats, after, failed, takenOutIn, startedIn, reattachedIn,
        backInBalancerIn, Duration.ofNanos(Math.max(0, lastFailure - killed)), outcomes.size());

    assertTrue(failed.stream().allMatch(o -> o.overlaps(killed, killed + takenOutIn.toNanos())),
        "requests fail only while the killed node is still in the balancer: " + failed);
    for (int i = 0; i < NODES; i++) {
      assertEquals(agentCount, loaded.get(i).agents(), "every agent on every node");
      double share = share(steady, ProxyCluster.name(i));
      assertTrue(share > 0.5 / NODES && share < 1.5 / NODES, "node n" + (i + 1) + " had a share of " + share);
    }
    assertTrue(share(after, "n1") > 0.5 / NODES, "the restarted node takes its share again");
  }

  /** Starts agent processes {@code from} to {@code to} (exclusive), each serving its share of {@code backends}. */
  private void startAgents(int from, int to, List<String> backends) {
    for (int p = from; p < to; p++) {
      List<String> flags = new ArrayList<>(List.of("--proxy", cluster.nodesUrl(), "--token", token,
          "--agent-id", "sim-agent-" + p, "--concurrency", "8", "--polls", Integer.toString(POLLS),
          "--log-level", "warn"));
      for (String id : backends.subList(p * AGENTS_PER_PROCESS, (p + 1) * AGENTS_PER_PROCESS)) {
        flags.addAll(List.of("--route", id + "=" + backend.url()));
      }
      agents.add(AgentProcess.start(List.of("-Xmx96m", "-Djdk.net.hosts.file=" + cluster.hostsFile()), flags));
    }
  }

  /** What one node holds; {@code bare} is what it held before, to compare. */
  private record NodeFigures(int agents, int waitingPolls, int connections, ProcessStats.Snapshot bare,
      ProcessStats.Snapshot loaded) {}

  private NodeFigures figures(int index, ProcessStats.Snapshot bare) {
    AdminStatus status = AdminStatus.read(cluster.baseUrl(index));
    int agentSessions = status.backends().stream().mapToInt(b -> b.agents().size()).sum();
    int waitingPolls = status.backends().stream().mapToInt(AdminStatus.BackendStatus::waitingPolls).sum();
    return new NodeFigures(agentSessions, waitingPolls, establishedTo(ProxyCluster.address(index), cluster.port()),
        bare, ProcessStats.take(cluster.node(index).pid()));
  }

  private void reportRun(int agentCount, Duration attachedIn, List<ClusterTraffic.Outcome> steady,
      List<NodeFigures> idle, List<NodeFigures> loaded, List<ProcessStats.Snapshot> agentStats, List<ClusterTraffic.Outcome> after, List<ClusterTraffic.Outcome> failed,
      Duration takenOutIn, Duration startedIn, Duration reattachedIn, Duration backInBalancerIn, Duration clientsRecoveredIn,
      int requests) {
    line("## Cluster simulation: %d nodes, %d agents (%d processes of %d), %d clients, %s",
        NODES, agentCount, AGENT_PROCESSES, AGENTS_PER_PROCESS, CLIENTS, dev.drawbridge.it.support.Containers.current().id());
    line("");
    line("Every agent attached to every node %d s after the agents started.", attachedIn.toSeconds());
    line("");
    line("| node | share of %d requests | agents | polls held (idle / loaded) | TCP connections (idle / loaded) | threads (%d agents / all, idle / loaded) | heap after GC, MiB (%d agents / all, idle / loaded) |",
        steady.size(), AGENTS_PER_PROCESS, AGENTS_PER_PROCESS);
    line("|---|---|---|---|---|---|---|");
    for (int i = 0; i < NODES; i++) {
      NodeFigures calm = idle.get(i);
      NodeFigures busy = loaded.get(i);
      line("| n%d | %.1f %% | %d | %d / %d | %d / %d | %d / %d / %d | %.1f / %.1f / %.1f |", i + 1,
          100 * share(steady, ProxyCluster.name(i)), busy.agents(), calm.waitingPolls(), busy.waitingPolls(),
          calm.connections(), busy.connections(), calm.bare().threads(), calm.loaded().threads(), busy.loaded().threads(),
          mib(calm.bare().heapUsedBytes()), mib(calm.loaded().heapUsedBytes()), mib(busy.loaded().heapUsedBytes()));
    }
    int further = agentCount - AGENTS_PER_PROCESS;
    double heapPerAgent = further == 0 ? 0 : idle.stream()
        .mapToDouble(n -> (n.loaded().heapUsedBytes() - n.bare().heapUsedBytes()) / (double) further)
        .average().orElse(0);
    double connectionsPerAgent = idle.stream().mapToDouble(n -> n.connections() / (double) n.agents()).average().orElse(0);
    line("");
    line("Per attached agent, on each node, idle: %.1f TCP connections and %.1f KiB of heap (its session and the"
        + " %d polls it keeps there; the heap of the %d agents beyond the first %d, divided by %d).",
        connectionsPerAgent, heapPerAgent / 1024, POLLS + 1, further, AGENTS_PER_PROCESS, further);
    line("Throughput: %.0f requests/s through the balancer in steady state.",
        steady.size() / (double) Math.max(1, STEADY.toSeconds()));
    ProcessStats.Snapshot agentProcess = agentStats.get(0);
    line("Each agent process (%d agents, each attached to %d nodes with %d polls): %d threads, %d open files,"
        + " %.1f MiB heap after GC.", AGENTS_PER_PROCESS, NODES, POLLS + 1, agentProcess.threads(),
        agentProcess.openFiles(), mib(agentProcess.heapUsedBytes()));
    line("");
    line("Node n1 killed under load, started again %d s later:", DOWN_FOR.toSeconds());
    line("");
    line("| step | time |");
    line("|---|---|");
    line("| balancer took n1 out (check every %d s, 2 failures) | %.1f s |", CHECK_INTERVAL.toSeconds(), seconds(takenOutIn));
    line("| last client request failed, after the kill | %.1f s (%d of %d requests failed) |",
        seconds(clientsRecoveredIn), failed.size(), requests);
    line("| n1's container started again | %.1f s |", seconds(startedIn));
    line("| all %d agents attached to n1 again (their backoff, capped at 30 s) | %.1f s after it answered |",
        agentCount, seconds(reattachedIn));
    line("| balancer put n1 back | %.1f s after it answered |", seconds(backInBalancerIn));
    line("| n1's share in the %d s after | %.1f %% |", STEADY.toSeconds(), 100 * share(after, "n1"));
    System.out.println(report);
  }

  private void line(String format, Object... args) {
    report.append(String.format(Locale.ROOT, format, args)).append('\n');
  }

  private List<ClusterTraffic.Outcome> between(long from, long to) {
    return traffic.outcomes().stream().filter(o -> o.startNanos() >= from && o.startNanos() < to).toList();
  }

  private static double share(List<ClusterTraffic.Outcome> outcomes, String node) {
    return outcomes.isEmpty() ? 0 : outcomes.stream().filter(o -> o.node().equals(node)).count() / (double) outcomes.size();
  }

  private void awaitAgents(int index, int agentCount) {
    await("all agents on n" + (index + 1)).atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
      try {
        return AdminStatus.read(cluster.baseUrl(index)).backends().stream().mapToInt(b -> b.agents().size()).sum()
            >= agentCount;
      } catch (AssertionError e) {
        return false;
      }
    });
  }

  private void awaitBalancer(String node, String state) {
    await(node + " " + state).atMost(WAIT).pollInterval(Duration.ofMillis(100))
        .until(() -> haproxy.nodeStates().getOrDefault(node, "").startsWith(state));
  }

  /**
   * Established TCP connections accepted by {@code address:port}, from {@code /proc/net/tcp} and
   * {@code tcp6} (a Java server socket is dual-stack, so its IPv4 peers show there, IPv4-mapped).
   */
  private static int establishedTo(String address, int port) {
    String[] octets = address.split("\\.");
    String ipv4 = String.format("%02X%02X%02X%02X", Integer.parseInt(octets[3]), Integer.parseInt(octets[2]),
        Integer.parseInt(octets[1]), Integer.parseInt(octets[0]));
    String portHex = String.format(":%04X", port);
    List<String> locals = List.of(ipv4 + portHex, "0000000000000000FFFF0000" + ipv4 + portHex);
    int count = 0;
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      try {
        count += (int) Files.readAllLines(Path.of(table)).stream().skip(1)
            .map(line -> line.trim().split("\\s+"))
            .filter(fields -> locals.contains(fields[1]) && fields[3].equals("01"))
            .count();
      } catch (IOException e) {
        // No IPv6 on this machine: the other table has them all.
      }
    }
    return count;
  }

  private static Duration since(long nanos) {
    return Duration.ofNanos(System.nanoTime() - nanos);
  }

  private static double seconds(Duration duration) {
    return duration.toMillis() / 1000.0;
  }

  private static double mib(long bytes) {
    return bytes / (1024.0 * 1024.0);
  }
}
