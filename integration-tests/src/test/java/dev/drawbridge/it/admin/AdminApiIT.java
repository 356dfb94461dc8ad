package dev.drawbridge.it.admin;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A known sequence of requests, then the numbers the JSON API, the metrics endpoint and readiness
 * report for it: two requests expire with no agent connected, then an agent answers 200, 200, 200,
 * 404 and 500.
 */
@Timeout(300)
class AdminApiIT {

  private static final String BACKEND = TunnelFixture.BACKEND_ID;

  private TunnelFixture tunnel;

  @AfterEach
  void stop() {
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void theApiAndTheMetricsCountAKnownSequence() throws Exception {
    tunnel = TunnelFixture.startWithoutAgent(config -> config.backendSetting("queueTimeoutSeconds", 1));
    tunnel.backend().respondTo("/missing", Responders.fixed(404, "text/plain", "no such thing"));
    tunnel.backend().respondTo("/broken", Responders.fixed(500, "text/plain", "backend bug"));
    tunnel.backend().respondByDefault(Responders.fixed(200, "text/plain", "hello"));

    HttpResponse<String> notReady = AdminHttp.get(tunnel.uri("/_drawbridge/health/ready"), null);
    assertEquals(503, notReady.statusCode());
    JsonObject readiness = AdminHttp.json(notReady.body());
    assertFalse(readiness.getBoolean("ready"));
    assertEquals(0, backendIn(readiness.getJsonArray("backends")).getInt("agents"));

    // No agent: both wait their one second in the queue and get 503.
    assertEquals(List.of(503, 503), statuses(List.of("/nobody-1", "/nobody-2")));

    tunnel.connectAgent(tunnel.backend().url(), List.of());
    assertEquals(List.of(200, 200, 200, 404, 500), statuses(List.of("/ok", "/ok", "/ok", "/missing", "/broken")));
    tunnel.awaitIdle(TunnelFixture.STARTUP);

    JsonObject ready = AdminHttp.json(AdminHttp.get(tunnel.uri("/_drawbridge/health/ready"), null).body());
    assertTrue(ready.getBoolean("ready"));
    assertEquals(1, backendIn(ready.getJsonArray("backends")).getInt("agents"));

    JsonObject status = AdminHttp.json(AdminHttp.get(tunnel.uri("/_drawbridge/admin/api/status"), AdminHttp.adminLogin()).body());
    JsonObject backend = backendIn(status.getJsonArray("backends"));
    assertEquals(0, status.getInt("liveExchanges"));
    assertEquals(0, backend.getInt("queueDepth"));
    assertEquals(0, backend.getInt("oldestQueuedMillis"));
    assertEquals(0, backend.getInt("inFlight"));
    assertEquals(1, backend.getJsonArray("agents").size());
    JsonObject agent = backend.getJsonArray("agents").getJsonObject(0);
    assertEquals("127.0.0.1", agent.getString("remoteAddress"));
    assertFalse(agent.getString("version").isBlank());

    JsonObject recent = backend.getJsonObject("recent");
    assertEquals(7, recent.getInt("requests"));
    assertEquals(2, recent.getInt("failures"));
    JsonObject classes = recent.getJsonObject("statusClasses");
    assertEquals(3, classes.getInt("2xx"));
    assertEquals(1, classes.getInt("4xx"));
    assertEquals(3, classes.getInt("5xx"), "the backend's 500 and the proxy's two 503s");
    assertEquals(7, recent.getJsonArray("series").stream().mapToInt(p -> p.asJsonObject().getInt("requests")).sum());
    assertTrue(number(recent, "p99Millis") >= 1000, "the expired requests waited a second: " + recent);
    assertTrue(number(recent, "p50Millis") <= number(recent, "p90Millis"));
    assertTrue(number(recent, "p90Millis") <= number(recent, "p99Millis"));

    JsonArray failures = status.getJsonArray("recentFailures");
    assertEquals(2, failures.size());
    List<String> failedTargets = new ArrayList<>();
    for (JsonValue value : failures) {
      JsonObject failure = value.asJsonObject();
      assertEquals(503, failure.getInt("status"));
      assertEquals("EXPIRED", failure.getString("outcome"));
      assertEquals(BACKEND, failure.getString("backend"));
      assertTrue(failure.getString("reason").startsWith("No agent is connected"), failure.getString("reason"));
      assertFalse(failure.getString("exchangeId").isBlank());
      failedTargets.add(failure.getString("target"));
    }
    assertEquals(List.of("/nobody-1", "/nobody-2"), failedTargets.stream().sorted().toList());

    PrometheusText metrics = scrapeAfterAnAuthFailure();
    Map<String, String> ok = Map.of("backend", BACKEND, "status_class", "2xx", "outcome", "completed");
    assertEquals(3, metrics.value("drawbridge_requests_total", ok));
    assertEquals(1, metrics.value("drawbridge_requests_total", Map.of("backend", BACKEND, "status_class", "4xx", "outcome", "completed")));
    assertEquals(1, metrics.value("drawbridge_requests_total", Map.of("backend", BACKEND, "status_class", "5xx", "outcome", "completed")));
    assertEquals(2, metrics.value("drawbridge_requests_total", Map.of("backend", BACKEND, "status_class", "5xx", "outcome", "expired")));
    assertEquals(7, metrics.value("drawbridge_queue_wait_seconds_count", Map.of("backend", BACKEND)));
    assertEquals(7, metrics.value("drawbridge_exchange_duration_seconds_count", Map.of("backend", BACKEND)));
    assertEquals(7, metrics.value("drawbridge_exchange_duration_seconds_bucket", Map.of("backend", BACKEND, "le", "+Inf")));
    assertEquals(0, metrics.value("drawbridge_queue_depth", Map.of("backend", BACKEND)));
    assertEquals(1, metrics.value("drawbridge_agents_connected", Map.of("backend", BACKEND)));
    assertTrue(metrics.value("drawbridge_response_bytes_total", Map.of("backend", BACKEND)) >= "hello".length() * 3);
    assertEquals(1, metrics.value("drawbridge_agent_auth_failures_total", Map.of("reason", "unknown_token")));
    assertEquals("histogram", metrics.types.get("drawbridge_queue_wait_seconds"));
    assertEquals("counter", metrics.types.get("drawbridge_requests_total"));
    assertTrue(metrics.names().contains("jvm_memory_used_bytes"), metrics.names()::toString);
    assertTrue(metrics.names().contains("process_uptime_seconds"), metrics.names()::toString);
  }

  /** One agent call with a token no backend knows, then the whole exposition, parsed. */
  private PrometheusText scrapeAfterAnAuthFailure() throws Exception {
    HttpResponse<String> refused =
        AdminHttp.CLIENT.send(
            HttpRequest.newBuilder(tunnel.uri("/_drawbridge/agent/v1/poll?backend=" + BACKEND + "&max=1"))
                .timeout(AdminHttp.TIMEOUT)
                .header("Authorization", "Bearer not-a-token")
                .header("Drawbridge-Agent-Id", "intruder")
                .header("Drawbridge-Protocol", "1")
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(401, refused.statusCode());
    HttpResponse<String> scrape = AdminHttp.get(tunnel.uri("/_drawbridge/metrics"), AdminHttp.adminLogin());
    assertEquals(200, scrape.statusCode());
    String contentType = scrape.headers().firstValue("Content-Type").orElse("");
    // Jetty writes "text/plain; version=0.0.4; ...", Tomcat the same without the spaces.
    assertTrue(contentType.replace(" ", "").startsWith("text/plain;version=0.0.4"), contentType);
    return PrometheusText.parse(scrape.body());
  }

  /** Sends the GETs at once and returns their statuses in the order given. */
  private List<Integer> statuses(List<String> paths) {
    List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    for (String path : paths) {
      URI uri = tunnel.uri(path);
      sent.add(
          AdminHttp.CLIENT.sendAsync(
              HttpRequest.newBuilder(uri).timeout(AdminHttp.TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString()));
    }
    await().atMost(AdminHttp.TIMEOUT).until(() -> sent.stream().allMatch(CompletableFuture::isDone));
    return sent.stream().map(f -> f.join().statusCode()).toList();
  }

  private static JsonObject backendIn(JsonArray backends) {
    return backends.stream()
        .map(JsonValue::asJsonObject)
        .filter(b -> b.getString("id").equals(BACKEND))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no backend " + BACKEND + " in " + backends));
  }

  private static double number(JsonObject object, String key) {
    return ((JsonNumber) object.get(key)).doubleValue();
  }
}
