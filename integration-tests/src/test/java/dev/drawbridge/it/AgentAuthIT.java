package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.Tokens;
import dev.drawbridge.protocol.Protocol;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The agent API refuses callers it cannot trust, and the agent says why it was refused. */
@Timeout(300)
class AgentAuthIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String GOOD_TOKEN = Tokens.random();
  private static final String OTHER_BACKEND_TOKEN = Tokens.random();

  private static Backend backend;
  private static ProxyServer proxy;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();

  @BeforeAll
  static void start() {
    backend = Backend.start();
    proxy =
        ProxyServer.start(
            ProxyConfig.singleBackend("default", Tokens.sha256Hex(GOOD_TOKEN))
                .backend("other", Tokens.sha256Hex(OTHER_BACKEND_TOKEN)));
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  @Test
  void agentWithAWrongTokenLogsTheAuthProblem() {
    try (AgentProcess agent =
        AgentProcess.start(AgentProcess.flags(proxy.baseUrl(), backend.url(), "default", Tokens.random()))) {
      String line = agent.awaitLine("rejected the agent token", WAIT);
      assertTrue(line.contains("401"), line);
      assertTrue(line.contains("--token"), () -> "tells the operator what to check: " + line);
      assertTrue(agent.isAlive(), "a refused agent keeps retrying instead of exiting");
    }
  }

  /** Token kind: GOOD, WRONG, OTHER (valid for another backend) or NONE. */
  @ParameterizedTest(name = "token {0}, protocol {1}, backend {2} -> {3}")
  @CsvSource(
      nullValues = "NONE",
      value = {
        "WRONG, 1,    default, 401, The agent token is missing or not valid.",
        "NONE,  1,    default, 401, The agent token is missing or not valid.",
        "GOOD,  2,    default, 400, speaks agent protocol 1",
        "GOOD,  NONE, default, 400, speaks agent protocol 1",
        "WRONG, 2,    default, 400, speaks agent protocol 1",
        "GOOD,  1,    nosuch,  404, no backend named 'nosuch'",
        "OTHER, 1,    default, 403, not allowed to serve backend 'default'",
      })
  void directPollIsRefused(String token, String protocol, String backendId, int status, String bodyPart)
      throws Exception {
    HttpRequest.Builder poll =
        HttpRequest.newBuilder(
                URI.create(proxy.baseUrl() + Protocol.POLL_PATH + "?backend=" + backendId + "&max=1"))
            .timeout(WAIT)
            .header(Protocol.AGENT_ID_HEADER, "auth-test")
            .header(Protocol.AGENT_VERSION_HEADER, "test")
            .POST(HttpRequest.BodyPublishers.noBody());
    if (protocol != null) {
      poll.header(Protocol.PROTOCOL_HEADER, protocol);
    }
    switch (String.valueOf(token)) {
      case "GOOD" -> poll.header("Authorization", "Bearer " + GOOD_TOKEN);
      case "WRONG" -> poll.header("Authorization", "Bearer " + Tokens.random());
      case "OTHER" -> poll.header("Authorization", "Bearer " + OTHER_BACKEND_TOKEN);
      default -> { }
    }
    HttpResponse<String> answer = client.send(poll.build(), HttpResponse.BodyHandlers.ofString());

    assertEquals(status, answer.statusCode(), answer::body);
    assertTrue(answer.body().contains(bodyPart), () -> "body names the problem: " + answer.body());
    NoAgentIT.assertOneSentence(answer.body());
    if (status == 401) {
      assertTrue(
          answer.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"),
          "401 names the Bearer scheme");
    }
  }
}
