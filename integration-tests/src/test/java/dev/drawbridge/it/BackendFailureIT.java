package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The agent cannot get an answer from its backend: refused connection gives 502, a backend slower
 * than --backend-timeout gives 504, each with one sentence of the proxy's for the client; the
 * agent's own account, which names the backend, reaches only the operator.
 */
@Timeout(300)
class BackendFailureIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();
  private TunnelFixture tunnel;

  @AfterEach
  void stopTunnel() {
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void unreachableBackendGives502() throws Exception {
    tunnel = TunnelFixture.startWithoutAgent(config -> config);
    String backendUrl = "http://127.0.0.1:" + closedPort();
    tunnel.connectAgent(backendUrl, List.of());

    HttpResponse<String> clientResponse = get("/anything");

    assertEquals(502, clientResponse.statusCode(), clientResponse::body);
    NoAgentIT.assertOneSentence(clientResponse.body());
    String exchangeId = clientResponse.headers().firstValue("Drawbridge-Exchange-Id").orElseThrow();
    assertTrue(clientResponse.body().contains("could not be reached") && clientResponse.body().contains(exchangeId),
        clientResponse::body);
    // The backend's internal address is the operator's business: the admin page has it, the client not.
    assertFalse(clientResponse.body().contains(backendUrl), clientResponse::body);
    assertEquals("nosniff", clientResponse.headers().firstValue("X-Content-Type-Options").orElse(null));
    String adminStatus = AdminStatus.readJson(tunnel.proxy().baseUrl());
    assertTrue(adminStatus.contains(exchangeId) && adminStatus.contains(backendUrl + " refused the connection"), adminStatus);
    tunnel.awaitIdle(WAIT);
  }

  @Test
  void backendSlowerThanTheAgentsTimeoutGives504() throws Exception {
    tunnel = TunnelFixture.startWithoutAgent(config -> config);
    tunnel.backend().respondTo("/slow", Responders.stall());
    tunnel.connectAgent(tunnel.backend().url(), List.of("--backend-timeout", "1s"));

    long started = System.nanoTime();
    HttpResponse<String> clientResponse = get("/slow");
    Duration elapsed = Duration.ofNanos(System.nanoTime() - started);

    assertEquals(504, clientResponse.statusCode(), clientResponse::body);
    NoAgentIT.assertOneSentence(clientResponse.body());
    // The agent's 1 s, with room for a starved machine; the proxy's own response timeout is 60 s.
    assertTrue(elapsed.compareTo(Duration.ofSeconds(1 + 25)) <= 0, () -> "504 after " + elapsed);
    assertEquals("/slow", tunnel.backend().takeRequest(WAIT).target());
    tunnel.awaitIdle(WAIT);
  }

  private HttpResponse<String> get(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(tunnel.uri(path)).timeout(WAIT).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A port nothing listens on: the OS picks a free one, we let go of it. */
  private static int closedPort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
