package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import dev.drawbridge.protocol.Json;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An agent run with a fixed {@code --agent-id} (as in a service unit) is killed with SIGKILL while it
 * holds requests, and restarted under the same id. The proxy tells the new process from the dead one
 * by its instance and ends the dead one at once: its GETs go to the new process, and their clients
 * see only their 200s, long before the poll wait, the grace or the response timeout could help.
 */
@Timeout(120)
class AgentRestartIT {

  private static final String AGENT_ID = "edge-agent";
  private static final int GETS = 6;
  /** Every deadline that could also end the dead process: far beyond {@link #RESTART_BOUND}. */
  private static final int SLOW_SECONDS = 60;
  /** From the restart to the last answer: a JVM start, one poll, one reaper sweep, six echoes. */
  private static final Duration RESTART_BOUND = Duration.ofSeconds(25);
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final CountDownLatch releaseBackend = new CountDownLatch(1);
  private TunnelFixture tunnel;

  @AfterEach
  void stop() {
    releaseBackend.countDown();
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void getsHeldByAKilledAgentGoToItsRestartedProcessUnderTheSameIdAtOnce() throws Exception {
    tunnel =
        TunnelFixture.start(
            config -> config
                .set("pollWaitSeconds", SLOW_SECONDS)
                .set("agentGraceSeconds", SLOW_SECONDS)
                .backendSetting("responseTimeoutSeconds", SLOW_SECONDS * 2),
            List.of("--agent-id", AGENT_ID));
    tunnel.backend().respondByDefault(Responders.echoAfter(releaseBackend));
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    for (int i = 0; i < GETS; i++) {
      answers.add(client.sendAsync(
          HttpRequest.newBuilder(tunnel.uri("/held/" + i)).timeout(WAIT.multipliedBy(3)).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    Map<String, Integer> seen = new TreeMap<>();
    for (int i = 0; i < GETS; i++) {
      seen.merge(tunnel.backend().takeRequest(WAIT).target(), 1, Integer::sum);
    }

    tunnel.agent().kill();
    releaseBackend.countDown();
    long restart = System.nanoTime();
    tunnel.connectAgent(tunnel.backend().url(), List.of("--agent-id", AGENT_ID));

    for (int i = 0; i < GETS; i++) {
      HttpResponse<String> answer = answers.get(i).get(RESTART_BOUND.toSeconds(), TimeUnit.SECONDS);
      assertEquals(200, answer.statusCode(), answer::body);
      assertEquals("/held/" + i, Json.fromJson(answer.body(), RecordedRequest.class).target());
    }
    Duration took = Duration.ofNanos(System.nanoTime() - restart);
    assertTrue(took.compareTo(RESTART_BOUND) < 0, () -> "answered " + took + " after the restart");
    for (int i = 0; i < GETS; i++) {
      seen.merge(tunnel.backend().takeRequest(WAIT).target(), 1, Integer::sum);
    }
    for (int i = 0; i < GETS; i++) {
      assertEquals(2, seen.get("/held/" + i), () -> "each GET reached the backend from each process: " + seen);
    }
    tunnel.awaitIdle(WAIT);
    assertEquals(1, tunnel.status().backend(TunnelFixture.BACKEND_ID).agents().size(), "only the new process is listed");
  }

  /**
   * The restart without a gap that the agent's documentation gives for one fixed id: SIGTERM, and
   * the successor starts once the old process logged that it stops. The old one finishes its
   * request beside the new one, which serves everything new; nobody gets an error.
   */
  @Test
  void aSuccessorStartedWhileTheOldProcessDrainsServesBesideIt() throws Exception {
    tunnel = TunnelFixture.start(config -> config, List.of("--agent-id", AGENT_ID, "--drain-timeout", "60s"));
    tunnel.backend().respondTo("/slow", Responders.echoAfter(releaseBackend));
    CompletableFuture<HttpResponse<String>> slow =
        client.sendAsync(
            HttpRequest.newBuilder(tunnel.uri("/slow")).timeout(WAIT.multipliedBy(3)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals("/slow", tunnel.backend().takeRequest(WAIT).target());
    AgentProcess old = tunnel.agent();

    old.terminate();
    old.awaitLine("Stopping: the proxy hands this agent no more requests", WAIT);
    List<String> flags = new java.util.ArrayList<>(
        AgentProcess.flags(tunnel.proxy().baseUrl(), tunnel.backend().url(), TunnelFixture.BACKEND_ID, tunnel.token()));
    flags.addAll(List.of("--agent-id", AGENT_ID));
    AgentProcess successor = AgentProcess.start(flags);
    try {
      successor.awaitLine(AgentProcess.CONNECTED, WAIT);
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> fresh =
            client.send(HttpRequest.newBuilder(tunnel.uri("/fresh/" + i)).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, fresh.statusCode(), fresh::body);
      }
      assertTrue(old.isAlive(), "the old process still drains");
      releaseBackend.countDown();
      HttpResponse<String> finished = slow.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertEquals(200, finished.statusCode(), finished::body);
      assertEquals(0, old.exitCode(WAIT), "the old process drained and exited 0");
      tunnel.awaitIdle(WAIT);
    } finally {
      successor.close();
    }
  }
}
