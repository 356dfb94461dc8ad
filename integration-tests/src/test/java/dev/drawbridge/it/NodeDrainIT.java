package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.NodeHttp;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One node's side of high availability: the readiness check a load balancer polls, and the drain
 * call that takes the node out of the load balancer before it stops taking work, without failing
 * a request in flight.
 */
@Timeout(120)
class NodeDrainIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  /**
   * Long beside the few milliseconds the checks made within it take, so that a slow or busy
   * machine still makes them in time; the test waits it out once.
   */
  private static final int DRAIN_DELAY_SECONDS = 10;

  private final CountDownLatch releaseStream = new CountDownLatch(1);
  private TunnelFixture tunnel;

  @AfterEach
  void stop() {
    releaseStream.countDown();
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void readyOnlyWithAnAgentForEveryBackend() throws Exception {
    tunnel = TunnelFixture.startWithoutAgent(config -> config.backend("reports", config.firstTokenSha256()));
    String base = tunnel.proxy().baseUrl();
    HttpResponse<String> noAgent = NodeHttp.readiness(base, null);
    assertEquals(503, noAgent.statusCode());
    assertTrue(noAgent.body().contains("\"phase\":\"serving\""), noAgent.body());

    tunnel.connectAgent(tunnel.backend().url(), List.of());
    HttpResponse<String> oneOfTwo = NodeHttp.readiness(base, null);
    assertEquals(503, oneOfTwo.statusCode(), "backend 'reports' has no agent: " + oneOfTwo.body());
    assertEquals(200, NodeHttp.readiness(base, TunnelFixture.BACKEND_ID).statusCode(), "one backend checked alone");
    assertEquals(503, NodeHttp.readiness(base, "reports").statusCode());
    assertEquals(404, NodeHttp.readiness(base, "nope").statusCode());
  }

  @Test
  void aDrainCallLeavesTheLoadBalancerThenStopsTakingWorkWhileRequestsInFlightFinish() throws Exception {
    tunnel = TunnelFixture.start(config -> config.set("drainDelaySeconds", DRAIN_DELAY_SECONDS), List.of());
    tunnel.backend().respondTo("/events", Responders.sse(List.of("first"), releaseStream, List.of("last")));
    String base = tunnel.proxy().baseUrl();
    assertEquals(200, NodeHttp.readiness(base, null).statusCode());
    CompletableFuture<HttpResponse<String>> inFlight = NodeHttp.getAsync(tunnel.uri("/events"));
    await("the stream reaches the agent").atMost(WAIT)
        .until(tunnel::status, status -> status.backend(TunnelFixture.BACKEND_ID).inFlight() == 1);

    assertEquals(403, NodeHttp.drain(base, null).statusCode(), "not without the action header");
    HttpResponse<String> drain = NodeHttp.drain(base, "drain");
    assertEquals(202, drain.statusCode(), drain.body());
    assertTrue(drain.body().contains("\"started\":true"), drain.body());

    HttpResponse<String> leaving = NodeHttp.readiness(base, null);
    assertEquals(503, leaving.statusCode(), "out of the load balancer at once");
    assertTrue(leaving.body().contains("\"phase\":\"leaving\""), leaving.body());
    HttpResponse<String> duringDelay = NodeHttp.get(tunnel.uri("/still-served"));
    String afterIt = NodeHttp.readiness(base, null).body();
    // Phases only move forward, so one still "leaving" after the answer proves the request was
    // made within the delay, whatever the clock says.
    assertTrue(afterIt.contains("\"phase\":\"leaving\""),
        "the delay ended before a request made right after the drain call was answered: " + afterIt);
    assertEquals(200, duringDelay.statusCode(), "work is still taken while the load balancer catches up");

    tunnel.agent().awaitLine("The proxy is shutting down", WAIT);
    HttpResponse<String> refused = NodeHttp.get(tunnel.uri("/after-delay"));
    assertEquals(503, refused.statusCode());
    assertTrue(refused.headers().firstValue("Retry-After").isPresent());
    assertTrue(NodeHttp.readiness(base, null).body().contains("\"phase\":\"draining\""));

    releaseStream.countDown();
    HttpResponse<String> finished = inFlight.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(200, finished.statusCode());
    assertEquals("data: first\n\ndata: last\n\n", finished.body(), "the request in flight finished whole");
    await("nothing left on the node").atMost(WAIT)
        .until(() -> NodeHttp.readiness(base, null).body().contains("\"liveExchanges\":0"));
  }
}
