package dev.drawbridge.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.proxy.config.ConfigLoader;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The drain when the web application stops: who gets 503 at once, who gets the grace, who is cut.
 * The grace runs on a {@link ManualClock}: it passes only when a test moves the clock, so a drain
 * that returns without that proves no grace was spent, however slow the machine.
 */
@Timeout(30)
class TunnelDrainTest {

  private static final String DIGEST = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  private static final String SHUTTING_DOWN = "error 503 retry 7: The proxy is shutting down; retry shortly.";
  private static final Duration GRACE = Duration.ofSeconds(10);

  private final ManualClock clock = new ManualClock();
  private Tunnel tunnel;
  private Backend backend;
  private AgentSession agent;

  @BeforeEach
  void startTunnel() throws Exception {
    tunnel =
        new Tunnel(
            ConfigLoader.parse(
                "{\"backends\":[{\"id\":\"app\",\"agentTokenSha256\":[\"" + DIGEST + "\"]}],"
                    + "\"retryAfterSeconds\":7,\"drainGraceSeconds\":10}",
                "test"),
            clock);
    backend = tunnel.backend("app");
    agent = backend.session("agent-1", "1", "127.0.0.1");
    agent.greet();
  }

  @AfterEach
  void closeTunnel() {
    tunnel.close(Duration.ZERO);
  }

  @Test
  void theGraceComesFromTheConfiguration() {
    assertEquals(GRACE, tunnel.settings().drainGrace());
  }

  @Test
  void queuedRequestsAndRequestsStillAtTheAgentGet503AtOnceAndWaitingPollsHearOfTheDrain() throws Exception {
    FakeClient atAgent = new FakeClient();
    Exchange delivered = open(atAgent);
    backend.submit(delivered);
    FakePoll taking = new FakePoll("agent-1", 1);
    backend.poll(taking, agent);
    assertEquals(List.of(delivered.id()), taking.answers.poll(5, TimeUnit.SECONDS));
    FakeClient waiting = new FakeClient();
    backend.submit(open(waiting));
    assertEquals(1, backend.queueDepth());
    FakePoll listening = new FakePoll("agent-1", 0);
    backend.poll(listening, agent);

    // Returns although the clock stands still: nothing streamed, so no grace was spent.
    tunnel.close(GRACE);

    assertEquals(SHUTTING_DOWN, waiting.events.poll());
    assertEquals(SHUTTING_DOWN, atAgent.events.poll());
    assertEquals("draining", listening.answers.poll().get(0));
    assertEquals(0, tunnel.liveExchanges());
    FakeClient late = new FakeClient();
    backend.submit(open(late));
    assertEquals(SHUTTING_DOWN, late.events.poll(), "no new work is taken");
  }

  @Test
  void aResponseStreamingWhenTheDrainStartsMayFinishWithinTheGrace() throws Exception {
    FakeClient client = new FakeClient();
    Exchange streaming = streaming(client);
    FakePoll listening = new FakePoll("agent-1", 0);
    backend.poll(listening, agent);

    CompletableFuture<Void> drain = CompletableFuture.runAsync(() -> tunnel.close(GRACE));
    // The parked poll hears of the drain before the grace starts.
    assertEquals(List.of("draining"), listening.answers.poll(5, TimeUnit.SECONDS));
    clock.advance(GRACE.minusMillis(1));
    assertNull(client.events.poll(), "the stream is left alone");
    assertFalse(drain.isDone(), "the drain waits for it");
    streaming.complete();

    drain.get(20, TimeUnit.SECONDS);
    assertEquals("complete", client.events.poll());
  }

  @Test
  void aResponseStillStreamingWhenTheGraceEndsIsCut() throws Exception {
    FakeClient client = new FakeClient();
    streaming(client);
    FakePoll listening = new FakePoll("agent-1", 0);
    backend.poll(listening, agent);

    CompletableFuture<Void> drain = CompletableFuture.runAsync(() -> tunnel.close(GRACE));
    assertEquals(List.of("draining"), listening.answers.poll(5, TimeUnit.SECONDS));
    clock.advance(GRACE.minusMillis(1));
    assertNull(client.events.poll(), "the grace was given");
    assertFalse(drain.isDone());
    clock.advance(Duration.ofMillis(1));

    // The drain looks at the clock again within a sweep interval; the bound is for a slow machine.
    drain.get(20, TimeUnit.SECONDS);
    assertEquals("abort: The proxy is shutting down; retry shortly.", client.events.poll());
  }

  @Test
  void onlyTheFirstCloseDrains() throws Exception {
    FakeClient client = new FakeClient();
    Exchange exchange = streaming(client);
    FakePoll listening = new FakePoll("agent-1", 0);
    backend.poll(listening, agent);
    CompletableFuture<Void> drain = CompletableFuture.runAsync(() -> tunnel.close(GRACE));
    assertEquals(List.of("draining"), listening.answers.poll(5, TimeUnit.SECONDS));

    // Returns at once, neither waiting for the first drain nor cutting the stream it waits for.
    tunnel.close(Duration.ZERO);

    assertNull(client.events.poll());
    exchange.complete();
    drain.get(20, TimeUnit.SECONDS);
    assertEquals("complete", client.events.poll());
  }

  @Test
  void theDrainBeginsOnTheSweepThatSeesTheContainerStoppingAndCutsStreamsWhenTheGraceEnds() throws Exception {
    AtomicBoolean stopping = new AtomicBoolean();
    tunnel.drainWhenContainerStops(stopping::get);
    FakeClient client = new FakeClient();
    streaming(client);
    FakeClient queued = new FakeClient();
    backend.submit(open(queued));
    tunnel.sweep();
    assertNull(queued.events.poll(), "nothing changes while the container runs the application");

    stopping.set(true);
    tunnel.sweep();
    assertEquals(SHUTTING_DOWN, queued.events.poll());
    assertEquals(Tunnel.Phase.DRAINING, tunnel.phase());
    clock.advance(GRACE.minusMillis(1));
    tunnel.sweep();
    assertNull(client.events.poll(), "the stream gets the grace");
    clock.advance(Duration.ofMillis(1));
    tunnel.sweep();
    assertEquals("abort: The proxy is shutting down; retry shortly.", client.events.poll());

    // When the container then tells the application, the drain is over: nothing waits, nothing is cut twice.
    tunnel.close(GRACE);
    assertNull(client.events.poll());
  }

  @Test
  void theReaperThreadHasEndedWhenCloseReturns() throws Exception {
    List<Thread> others = liveReapers();
    Tunnel running =
        new Tunnel(ConfigLoader.parse("{\"backends\":[{\"id\":\"app\",\"agentTokenSha256\":[\"" + DIGEST + "\"]}]}", "test"));
    List<Thread> reapers = liveReapers().stream().filter(thread -> !others.contains(thread)).toList();
    assertFalse(reapers.isEmpty(), "the production tunnel runs its reaper");

    running.close(Duration.ZERO);

    // A container looks for threads the application left as soon as the drain returns.
    assertTrue(reapers.stream().noneMatch(Thread::isAlive), () -> "still alive: " + reapers);
  }

  private static List<Thread> liveReapers() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().equals("drawbridge-reaper") && thread.isAlive())
        .toList();
  }

  @Test
  void aDrainCallLeavesTheLoadBalancerFirstThenTellsAgentsAndLetsQueuedWorkGoToThem() throws Exception {
    Tunnel leaving = new Tunnel(ConfigLoader.parse(
        "{\"backends\":[{\"id\":\"app\",\"agentTokenSha256\":[\"" + DIGEST + "\"]}],"
            + "\"retryAfterSeconds\":7,\"drainDelaySeconds\":1}", "test"));
    try {
      Backend app = leaving.backend("app");
      AgentSession session = app.session("agent-1", "1", "127.0.0.1");
      session.greet();
      assertEquals(Tunnel.Phase.SERVING, leaving.phase());
      assertTrue(leaving.leave());
      assertEquals(Tunnel.Phase.LEAVING, leaving.phase(), "readiness says 503 from now on");
      assertFalse(leaving.leave(), "only the first call drains");

      FakeClient queuedDuringDelay = new FakeClient();
      Exchange queued = app.open(head(), queuedDuringDelay, "127.0.0.1");
      app.submit(queued);
      assertEquals(1, app.queueDepth(), "the node still takes work while the load balancer takes it out");
      FakePoll listening = new FakePoll("agent-1", 0);
      app.poll(listening, session);

      assertEquals(List.of("draining"), listening.answers.poll(5, TimeUnit.SECONDS), "agents hear of it after the delay");
      assertEquals(Tunnel.Phase.DRAINING, leaving.phase());
      assertNull(queuedDuringDelay.events.poll(), "queued work is not refused");
      FakePoll taking = new FakePoll("agent-1", 1);
      app.poll(taking, session);
      assertEquals(List.of(queued.id(), "draining"), taking.answers.poll(5, TimeUnit.SECONDS), "it goes to the next poll");

      FakeClient late = new FakeClient();
      app.submit(app.open(head(), late, "127.0.0.1"));
      assertEquals(SHUTTING_DOWN, late.events.poll(), "new requests are refused");
    } finally {
      leaving.close(Duration.ZERO);
    }
  }

  @Test
  void stoppingLeavesTheLoadBalancerAtOnce() {
    tunnel.close(Duration.ZERO);
    assertEquals(Tunnel.Phase.DRAINING, tunnel.phase());
    assertFalse(tunnel.leave());
  }

  private static RequestHead head() {
    return new RequestHead(ExchangeIds.next(), "app", "GET", "/", List.of(), BodyMode.NONE, 0, null);
  }

  /** An exchange delivered to agent-1 whose response head went to {@code client}. */
  private Exchange streaming(FakeClient client) {
    Exchange exchange = open(client);
    backend.submit(exchange);
    backend.poll(new FakePoll("agent-1", 1), agent);
    assertTrue(exchange.startResponse(200));
    client.committed = true;
    return exchange;
  }

  private Exchange open(FakeClient client) {
    RequestHead head = new RequestHead(ExchangeIds.next(), "app", "GET", "/", List.of(), BodyMode.NONE, 0, null);
    return backend.open(head, client, "127.0.0.1");
  }
}
