package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Lighttpd;
import dev.drawbridge.it.support.Nginx;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The agent takes work from streamed polls where the way to the proxy passes a stream on as it is
 * written (directly, or through nginx with {@code proxy_buffering on}), and polls plainly, by
 * itself, where something on the way collects each response whole first (lighttpd with its
 * defaults). Likewise it sends responses on streamed batches where the way passes a request body
 * on as written (directly), and plain batches where it collects it whole (nginx with its default
 * {@code proxy_request_buffering on}). Either way every request is answered.
 */
@Timeout(240)
class StreamedPollIT {

  private static final int POLL_WAIT_SECONDS = 2;
  private static final int AGENT_GRACE_SECONDS = 1;
  private static final int LONG_POLL_WAIT_SECONDS = 8;
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String STREAMING = "Streamed polls from proxy .* reach this agent as they are written";
  private static final String HELD_BACK = "holds streamed polls back; polling it plainly";
  private static final String RESPONSES_STREAMING = "Responses streamed to proxy .* reach it as they are written";
  private static final String RESPONSES_COLLECTED = "collects streamed responses whole; sending them in batch calls";

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private TunnelFixture tunnel;
  private Nginx nginx;
  private Lighttpd lighttpd;
  private AgentProcess agent;

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
    if (nginx != null) {
      nginx.close();
    }
    if (lighttpd != null) {
      lighttpd.close();
    }
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void aDirectPathStreamsPollsAndServesRequests() throws Exception {
    tunnel = TunnelFixture.startWithoutAgent(config -> config.set("pollWaitSeconds", POLL_WAIT_SECONDS));
    agent = connect(tunnel.proxy().port());
    agent.awaitLine(STREAMING, WAIT);
    assertAllAnswered(40);
    // The first response went in a plain batch and had the way checked; the next ones stream.
    agent.awaitLine(RESPONSES_STREAMING, WAIT);
    assertAllAnswered(40);
    assertTrue(agent.lines().stream().noneMatch(line -> line.contains(HELD_BACK) || line.contains(RESPONSES_COLLECTED)),
        () -> String.join("\n", agent.lines()));
  }

  @Test
  void nginxBufferingResponsesStillPassesTheStreamOn() throws Exception {
    assumeTrue(Nginx.isInstalled(), "nginx is not installed");
    tunnel = TunnelFixture.startWithoutAgent(config -> config.set("pollWaitSeconds", POLL_WAIT_SECONDS));
    nginx = Nginx.start(tunnel.proxy().port());
    agent = connect(nginx.port());
    agent.awaitLine(STREAMING, WAIT);
    assertAllAnswered(40);
    // nginx collects a request body whole before it passes it on, so responses go in plain batches.
    agent.awaitLine(RESPONSES_COLLECTED, WAIT);
    assertAllAnswered(40);
    assertTrue(agent.lines().stream().noneMatch(line -> line.matches(".*" + RESPONSES_STREAMING + ".*")),
        () -> String.join("\n", agent.lines()));
  }

  @Test
  void aProxyCollectingWholeResponsesOnTheWayMakesTheAgentPollPlainly() throws Exception {
    assumeTrue(Lighttpd.isInstalled(), "lighttpd is not installed");
    tunnel = TunnelFixture.startWithoutAgent(config -> config.set("pollWaitSeconds", POLL_WAIT_SECONDS));
    lighttpd = Lighttpd.start(tunnel.proxy().port());
    agent = connect(lighttpd.port());
    agent.awaitLine(HELD_BACK, WAIT);
    assertAllAnswered(40);
    assertTrue(agent.lines().stream().noneMatch(line -> line.matches(".*" + STREAMING + ".*")),
        () -> String.join("\n", agent.lines()));
  }

  @Test
  void aBackendSlowerThanTheGraceDoesNotMakeAStreamingAgentLookLost() throws Exception {
    // A long poll wait, so that few polls end and are renewed (each renewal is a call) while the
    // request waits: the agent's calls in the grace are then mostly its alive calls.
    tunnel = TunnelFixture.startWithoutAgent(
        config -> config.set("pollWaitSeconds", LONG_POLL_WAIT_SECONDS).set("agentGraceSeconds", AGENT_GRACE_SECONDS));
    CountDownLatch release = new CountDownLatch(1);
    tunnel.backend().respondTo("/slow", Responders.echoAfter(release));
    agent = connect(tunnel.proxy().port());
    agent.awaitLine(STREAMING, WAIT);
    // The polls asking for work stream from their next poll on, at the latest one poll wait later.
    await("the work polls streaming").pollDelay(Duration.ofSeconds(LONG_POLL_WAIT_SECONDS + 1)).atMost(WAIT)
        .until(() -> true);

    CompletableFuture<HttpResponse<String>> slow = client.sendAsync(
        HttpRequest.newBuilder(tunnel.uri("/slow")).timeout(WAIT).POST(HttpRequest.BodyPublishers.ofString("once"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals("/slow", tunnel.backend().takeRequest(WAIT).target());
    // The work came from a stream, so the proxy wants a call within the grace; the backend's answer
    // is not it. The agent's alive calls keep it connected through three graces.
    await("the agent connected through three graces")
        .during(Duration.ofSeconds(3L * AGENT_GRACE_SECONDS))
        .atMost(WAIT)
        .until(() -> tunnel.status().backend(TunnelFixture.BACKEND_ID).agents().size() == 1);
    release.countDown();
    HttpResponse<String> response = slow.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertEquals(200, response.statusCode(), response::body);
  }

  private AgentProcess connect(int port) {
    AgentProcess started = AgentProcess.start(AgentProcess.flags(
        "http://127.0.0.1:" + port + "/drawbridge", tunnel.backend().url(), TunnelFixture.BACKEND_ID, tunnel.token()));
    started.awaitLine(AgentProcess.CONNECTED, WAIT);
    return started;
  }

  /** Sends {@code count} requests, four at a time, and checks that each got its own answer. */
  private void assertAllAnswered(int count) throws Exception {
    for (int i = 0; i < count; i += 4) {
      List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
      for (int j = i; j < i + 4; j++) {
        sent.add(client.sendAsync(
            HttpRequest.newBuilder(tunnel.uri("/item/" + j)).timeout(WAIT).GET().build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      for (int j = 0; j < sent.size(); j++) {
        HttpResponse<String> response = sent.get(j).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(200, response.statusCode(), response::body);
        assertTrue(response.body().contains("/item/" + (i + j)), response::body);
      }
    }
  }
}
