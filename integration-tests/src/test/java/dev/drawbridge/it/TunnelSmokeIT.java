package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Tokens;
import dev.drawbridge.protocol.Json;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The whole tunnel once: client, proxy WAR in Jetty, real agent jar, backend. */
@Timeout(300)
class TunnelSmokeIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  private final HttpClient client = HttpClient.newBuilder().connectTimeout(WAIT).build();

  @Test
  void getReachesTheBackendAndItsAnswerReachesTheClient() throws Exception {
    String token = Tokens.random();
    try (Backend backend = Backend.start();
        ProxyServer proxy =
            ProxyServer.start(ProxyConfig.singleBackend("default", Tokens.sha256Hex(token)));
        AgentProcess agent =
            AgentProcess.start(AgentProcess.flags(proxy.baseUrl(), backend.url(), "default", token))) {
      agent.awaitLine(AgentProcess.CONNECTED, WAIT);

      HttpResponse<String> clientResponse =
          client.send(
              HttpRequest.newBuilder(proxy.uri("/hello?x=1")).timeout(WAIT).GET().build(),
              HttpResponse.BodyHandlers.ofString());

      // Status first: when the tunnel fails, the proxy's one-sentence error says why.
      assertEquals(200, clientResponse.statusCode(), clientResponse::body);
      RecordedRequest backendRequest = backend.takeRequest(WAIT);
      assertEquals("GET", backendRequest.method());
      assertEquals("/hello?x=1", backendRequest.target(), "the target below the proxy's context path");
      RecordedRequest echoed = Json.fromJson(clientResponse.body(), RecordedRequest.class);
      assertEquals(backendRequest, echoed, "the client sees exactly the backend's answer");
    }
  }
}
