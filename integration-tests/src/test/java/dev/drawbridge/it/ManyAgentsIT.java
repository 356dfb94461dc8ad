package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Responder;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import dev.drawbridge.protocol.Json;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Several agents per backend: re-queueing after an agent's loss, and the agents' health checks. */
@Timeout(300)
class ManyAgentsIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String UNREACHABLE = "The backend's agents report it unreachable; retry later.";

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private TunnelFixture tunnel;
  private AgentProcess second;

  @AfterEach
  void stop() {
    if (second != null) {
      second.close();
    }
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void aGetWhoseAgentDiesBeforeAnsweringIsServedByAnotherAgent() throws Exception {
    tunnel =
        TunnelFixture.start(config -> config.set("pollWaitSeconds", 2).set("agentGraceSeconds", 1), List.of());
    AtomicInteger calls = new AtomicInteger();
    Responder stallFirst =
        (request, response, callback) -> {
          if (calls.incrementAndGet() > 1) {
            Responders.echo().respond(request, response, callback);
          }
        };
    tunnel.backend().respondTo("/once", stallFirst);
    CompletableFuture<HttpResponse<String>> pending =
        client.sendAsync(
            HttpRequest.newBuilder(tunnel.uri("/once")).timeout(WAIT).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    tunnel.backend().takeRequest(WAIT);
    second =
        AgentProcess.connect(
            tunnel.proxy().baseUrl(), tunnel.backend().url(), TunnelFixture.BACKEND_ID, tunnel.token(), WAIT);

    tunnel.agent().kill();
    HttpResponse<String> clientResponse = pending.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);

    assertEquals(200, clientResponse.statusCode(), clientResponse::body);
    assertEquals("/once", Json.fromJson(clientResponse.body(), RecordedRequest.class).target());
    assertEquals(2, calls.get(), "the backend saw the request once per agent, never more");
    tunnel.awaitIdle(WAIT);
  }

  @Test
  void whileTheOnlyAgentFindsTheBackendDownClientsGet503AtOnce() throws Exception {
    AtomicBoolean healthy = new AtomicBoolean(true);
    Responder health =
        (request, response, callback) ->
            Responders.fixed(healthy.get() ? 200 : 503, "text/plain", "health").respond(request, response, callback);
    tunnel =
        TunnelFixture.start(
            config -> config.set("retryAfterSeconds", 3),
            List.of("--health-path", "/health", "--health-interval", "200ms"));
    tunnel.backend().respondTo("/health", health).respondByDefault(Responders.echo());
    assertEquals(200, get("/before").statusCode());

    healthy.set(false);
    tunnel.agent().awaitLine("Backend health check GET .*/health failed", WAIT);
    // That the refusal comes at submission, without queueing, is ExchangeTest's to show with a
    // clock of its own; here the answer must come through the real agent, proxy and client.
    await("the proxy refuses")
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              HttpResponse<String> refused = get("/while-down");
              assertEquals(503, refused.statusCode(), refused::body);
              assertEquals(UNREACHABLE, refused.body().strip());
              assertEquals("3", refused.headers().firstValue("Retry-After").orElse("(none)"));
            });

    healthy.set(true);
    tunnel.agent().awaitLine("Backend health check GET .*/health passes again", WAIT);
    await("work resumes").atMost(WAIT).until(() -> get("/after").statusCode() == 200);
    tunnel.awaitIdle(WAIT);
  }

  private HttpResponse<String> get(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(tunnel.uri(path)).timeout(WAIT).GET().build(), HttpResponse.BodyHandlers.ofString());
  }
}
