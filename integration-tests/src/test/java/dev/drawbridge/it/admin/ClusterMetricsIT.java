package dev.drawbridge.it.admin;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.NodeHttp;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.Tokens;
import dev.drawbridge.it.support.TunnelFixture;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Metrics of several nodes add up. One agent is given two nodes as a list of URLs; a third node has
 * no agent. What each node reports sums to the cluster's totals, no metric carries a label that
 * tells nodes apart (Prometheus adds {@code instance} for that), histograms share their buckets,
 * and the node without agents is the one the documented query picks.
 */
@Timeout(180)
class ClusterMetricsIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Map<String, String> COMPLETED =
      Map.of("backend", TunnelFixture.BACKEND_ID, "status_class", "2xx", "outcome", "completed");

  private final List<AutoCloseable> parts = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (int i = parts.size() - 1; i >= 0; i--) {
      parts.get(i).close();
    }
  }

  private <T extends AutoCloseable> T keep(T part) {
    parts.add(part);
    return part;
  }

  @Test
  void eachNodesMetricsSumToTheClustersAndTheNodeWithoutAgentsStandsOut() throws Exception {
    String token = Tokens.random();
    Backend backend = keep(Backend.start());
    ProxyConfig config = ProxyConfig.singleBackend(TunnelFixture.BACKEND_ID, Tokens.sha256Hex(token));
    List<ProxyServer> nodes = List.of(keep(ProxyServer.start(config)), keep(ProxyServer.start(config)),
        keep(ProxyServer.start(config)));
    AgentProcess agent = keep(AgentProcess.start(List.of(
        "--proxy", nodes.get(0).baseUrl() + "," + nodes.get(1).baseUrl(), "--target", backend.url(),
        "--backend", TunnelFixture.BACKEND_ID, "--token", token)));
    agent.awaitLine("Attaching to 2 proxy nodes for backend default: 127\\.0\\.0\\.1:" + nodes.get(0).port()
        + ", 127\\.0\\.0\\.1:" + nodes.get(1).port(), WAIT);
    for (ProxyServer node : nodes.subList(0, 2)) {
      await("the agent attached to " + node.baseUrl()).atMost(WAIT)
          .until(() -> NodeHttp.readiness(node.baseUrl(), null).statusCode() == 200);
    }
    assertEquals(503, NodeHttp.readiness(nodes.get(2).baseUrl(), null).statusCode(), "no agent, not ready");

    int[] sent = {10, 7};
    for (int node = 0; node < 2; node++) {
      for (int i = 0; i < sent[node]; i++) {
        assertEquals(200, NodeHttp.get(nodes.get(node).uri("/metrics-" + node + "-" + i)).statusCode());
      }
    }

    List<PrometheusText> scraped = new ArrayList<>();
    for (ProxyServer node : nodes) {
      scraped.add(scrape(node));
    }
    assertEquals(10, scraped.get(0).value("drawbridge_requests_total", COMPLETED));
    assertEquals(7, scraped.get(1).value("drawbridge_requests_total", COMPLETED));
    // sum by (backend) (drawbridge_requests_total): the cluster's total.
    double total = scraped.stream().mapToDouble(m -> m.sum("drawbridge_requests_total", Map.of("backend", "default"))).sum();
    assertEquals(17, total);
    double durations = scraped.stream()
        .mapToDouble(m -> m.sum("drawbridge_exchange_duration_seconds_count", Map.of("backend", "default"))).sum();
    assertEquals(17, durations, "every histogram counts its node's share");

    // drawbridge_agents_connected == 0: the node without agents, and only it.
    List<Double> agents = scraped.stream()
        .map(m -> m.value("drawbridge_agents_connected", Map.of("backend", TunnelFixture.BACKEND_ID))).toList();
    assertEquals(List.of(1.0, 1.0, 0.0), agents);
    for (PrometheusText metrics : scraped) {
      assertEquals(1, metrics.value("drawbridge_node_serving", Map.of()));
    }

    Map<String, Set<String>> labelNames = labelNames(scraped.get(0));
    assertEquals(labelNames, labelNames(scraped.get(1)), "the same series on nodes that served the same kinds of requests");
    // The idle node has no request series yet; those it has are shaped alike.
    labelNames(scraped.get(2)).forEach((name, labels) -> assertEquals(labelNames.get(name), labels, name));
    for (String port : nodes.stream().map(node -> Integer.toString(node.port())).toList()) {
      assertTrue(scraped.stream().flatMap(m -> m.samples.stream()).flatMap(s -> s.labels().values().stream())
          .noneMatch(value -> value.contains(port)), "no label names the node (port " + port + ")");
    }
    assertEquals(buckets(scraped.get(0)), buckets(scraped.get(1)), "histogram buckets are fixed, not per node");
  }

  private static PrometheusText scrape(ProxyServer node) throws Exception {
    var response = AdminHttp.get(URI.create(node.baseUrl() + "/_drawbridge/metrics"), AdminHttp.adminLogin());
    assertEquals(200, response.statusCode());
    return PrometheusText.parse(response.body());
  }

  /** Each drawbridge_ sample name with the label names its series carry. */
  private static Map<String, Set<String>> labelNames(PrometheusText metrics) {
    Map<String, Set<String>> names = new TreeMap<>();
    for (PrometheusText.Sample sample : metrics.samples) {
      if (sample.name().startsWith("drawbridge_")) {
        names.computeIfAbsent(sample.name(), n -> new TreeSet<>()).addAll(sample.labels().keySet());
      }
    }
    return names;
  }

  private static Set<String> buckets(PrometheusText metrics) {
    Set<String> bounds = new TreeSet<>();
    for (PrometheusText.Sample sample : metrics.samples) {
      if (sample.name().equals("drawbridge_exchange_duration_seconds_bucket")) {
        bounds.add(sample.labels().get("le"));
      }
    }
    return bounds;
  }
}
