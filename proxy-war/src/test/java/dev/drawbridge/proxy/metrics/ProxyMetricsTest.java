package dev.drawbridge.proxy.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.proxy.config.ConfigLoader;
import dev.drawbridge.proxy.exchange.ClientLeg;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.exchange.ExchangeIds;
import dev.drawbridge.proxy.exchange.Tunnel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The Prometheus registry as the tunnel feeds it, without a servlet container. */
@Timeout(10)
class ProxyMetricsTest {

  private static final String DIGEST = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

  private Tunnel tunnel;
  private ProxyMetrics metrics;

  @AfterEach
  void close() {
    metrics.close();
    tunnel.close(Duration.ZERO);
  }

  private void start() throws Exception {
    tunnel =
        new Tunnel(
            ConfigLoader.parse(
                "{\"backends\":[{\"id\":\"app\",\"agentTokenSha256\":[\"" + DIGEST + "\"],\"maxQueued\":1}]}", "test"));
    metrics = new ProxyMetrics(tunnel);
  }

  private String scrape(String accept) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    metrics.scrape(accept, out);
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void endedExchangesAreCountedByBackendStatusClassAndOutcome() throws Exception {
    start();
    Exchange first = open();
    tunnel.backend("app").submit(first);
    // The queue holds one: the second is refused with 503 at once.
    tunnel.backend("app").submit(open());
    String text = scrape(null);
    assertTrue(text.contains("drawbridge_queue_depth{backend=\"app\"} 1"), text);
    assertTrue(
        text.contains("drawbridge_requests_total{backend=\"app\",outcome=\"failed\",status_class=\"5xx\"} 1"), text);
    assertTrue(text.contains("drawbridge_queue_wait_seconds_count{backend=\"app\"} 1"), text);
    assertTrue(text.contains("drawbridge_exchange_duration_seconds_bucket{backend=\"app\",le=\"0.001\"}"), text);
    assertTrue(text.contains("jvm_memory_used_bytes"), text);
  }

  @Test
  void agentAuthFailuresStartAtZeroAndCount() throws Exception {
    start();
    assertTrue(scrape(null).contains("drawbridge_agent_auth_failures_total{reason=\"not_allowed\"} 0"));
    metrics.agentAuthFailed(ProxyMetrics.UNKNOWN_TOKEN);
    assertTrue(scrape(null).contains("drawbridge_agent_auth_failures_total{reason=\"unknown_token\"} 1"));
  }

  @Test
  void speaksOpenMetricsWhenAsked() throws Exception {
    start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertEquals(ProxyMetrics.OPEN_METRICS, metrics.scrape("application/openmetrics-text;version=1.0.0", out));
    assertTrue(out.toString(StandardCharsets.UTF_8).endsWith("# EOF\n"));
    assertEquals(ProxyMetrics.TEXT_FORMAT, metrics.scrape("text/plain", new ByteArrayOutputStream()));
  }

  @Test
  void closingStopsCounting() throws Exception {
    start();
    metrics.close();
    tunnel.backend("app").submit(open());
    tunnel.backend("app").submit(open());
    assertTrue(metrics.registry().find("drawbridge.requests").counters().isEmpty());
  }

  private Exchange open() {
    RequestHead head = new RequestHead(ExchangeIds.next(), "app", "GET", "/", List.of(), BodyMode.NONE, 0, null);
    return tunnel.backend("app").open(head, new NoClient(), "127.0.0.1");
  }

  /** A client that accepts whatever ending it is given. */
  private static final class NoClient implements ClientLeg {
    @Override
    public boolean isCommitted() {
      return false;
    }

    @Override
    public void sendError(int status, String message, int retryAfterSeconds) {}

    @Override
    public void complete() {}

    @Override
    public void abort(String reason) {}

    @Override
    public void discard() {}
  }
}
