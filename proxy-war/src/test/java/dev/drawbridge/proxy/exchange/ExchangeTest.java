package dev.drawbridge.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.proxy.config.ConfigLoader;
import dev.drawbridge.proxy.config.ProxySettings;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The exchange state machine and its backend queue, without any servlet container. Time moves only
 * when a test moves the {@link ManualClock}, and deadlines are enforced only when it sweeps.
 */
@Timeout(30)
class ExchangeTest {

  private static final String DIGEST = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  /** The configured pollWaitSeconds plus agentGraceSeconds: an agent silent longer is lost. */
  private static final Duration SILENCE_LOSES_AGENT = Duration.ofSeconds(2);
  private static final Duration A_MOMENT = Duration.ofMillis(1);

  private final ManualClock clock = new ManualClock();
  private Tunnel tunnel;

  private Backend backend(int maxQueued, int queueTimeoutSeconds, int responseTimeoutSeconds) throws Exception {
    return backend(maxQueued, queueTimeoutSeconds, responseTimeoutSeconds, true);
  }

  private Backend backend(int maxQueued, int queueTimeoutSeconds, int responseTimeoutSeconds, boolean requeue)
      throws Exception {
    ProxySettings settings =
        ConfigLoader.parse(
            "{\"backends\":[{\"id\":\"app\",\"agentTokenSha256\":[\"" + DIGEST + "\"],\"maxQueued\":" + maxQueued
                + ",\"queueTimeoutSeconds\":" + queueTimeoutSeconds + ",\"responseTimeoutSeconds\":" + responseTimeoutSeconds
                + "}],\"pollWaitSeconds\":1,\"agentGraceSeconds\":1,\"retryAfterSeconds\":7,\"requeueOnAgentLoss\":" + requeue + "}",
            "test");
    tunnel = new Tunnel(settings, clock);
    return tunnel.backend("app");
  }

  @AfterEach
  void closeTunnel() {
    if (tunnel != null) {
      tunnel.close(Duration.ZERO);
    }
  }

  /** An agent that already made its first poll (which is always answered at once). */
  private static AgentSession connected(Backend backend) {
    AgentSession session = backend.session("agent-1", "1", "127.0.0.1");
    session.greet();
    return session;
  }

  @Test
  void anAgentsFirstPollIsAnsweredAtOnce() throws Exception {
    Backend backend = backend(10, 30, 30);
    FakePoll poll = new FakePoll("agent-1", 4);
    backend.poll(poll, backend.session("agent-1", "1", "127.0.0.1"));
    assertEquals(List.of(), poll.answers.poll(5, TimeUnit.SECONDS));
    assertEquals(0, backend.parkedPolls());
  }

  private static Exchange open(Backend backend, FakeClient client) {
    RequestHead head = new RequestHead(ExchangeIds.next(), backend.id(), "GET", "/", List.of(), BodyMode.NONE, 0, null);
    return backend.open(head, client, "127.0.0.1");
  }

  @Test
  void aWaitingPollTakesANewRequestAtOnce() throws Exception {
    Backend backend = backend(10, 30, 30);
    FakePoll poll = new FakePoll("agent-1", 4);
    backend.poll(poll, connected(backend));
    assertEquals(1, backend.parkedPolls());
    Exchange exchange = open(backend, new FakeClient());
    backend.submit(exchange);
    assertEquals(List.of(exchange.id()), poll.answers.poll(5, TimeUnit.SECONDS));
    assertEquals(ExchangeState.DELIVERED, exchange.state());
    assertEquals("agent-1", exchange.agentId());
    assertEquals(0, backend.queueDepth());
  }

  @Test
  void onePollCarriesSeveralQueuedRequestsUpToItsMax() throws Exception {
    Backend backend = backend(10, 30, 30);
    for (int i = 0; i < 3; i++) {
      backend.submit(open(backend, new FakeClient()));
    }
    assertEquals(3, backend.queueDepth());
    FakePoll poll = new FakePoll("agent-1", 2);
    backend.poll(poll, connected(backend));
    assertEquals(2, poll.answers.poll(5, TimeUnit.SECONDS).size());
    assertEquals(1, backend.queueDepth());
  }

  @Test
  void aFullQueueRefusesWith503AndRetryAfter() throws Exception {
    Backend backend = backend(1, 30, 30);
    backend.submit(open(backend, new FakeClient()));
    FakeClient refused = new FakeClient();
    backend.submit(open(backend, refused));
    assertEquals("error 503 retry 7: The queue for backend 'app' is full; retry shortly.", refused.events.poll(5, TimeUnit.SECONDS));
  }

  /** Moves the clock on by {@code duration}, then enforces every deadline as the reaper would. */
  private void later(Duration duration) {
    clock.advance(duration);
    tunnel.sweep();
  }

  @Test
  void aQueuedRequestExpiresWith503WhenNoAgentIsConnected() throws Exception {
    Backend backend = backend(10, 1, 30);
    FakeClient client = new FakeClient();
    Exchange exchange = open(backend, client);
    backend.submit(exchange);
    later(Duration.ofSeconds(1));
    assertNull(client.events.poll(), "not before the queue timeout passed");
    later(A_MOMENT);
    assertEquals("error 503 retry 7: No agent is connected for backend 'app'; retry later.", client.events.poll());
    assertEquals(ExchangeState.EXPIRED, exchange.state());
    assertEquals(0, backend.queueDepth());
    assertNull(tunnel.exchange(exchange.id()));
  }

  @Test
  void every503SaysWhenToRetryWhoeverReportsIt() throws Exception {
    Backend backend = backend(10, 30, 30);
    FakeClient client = new FakeClient();
    Exchange exchange = open(backend, client);
    backend.submit(exchange);
    backend.poll(new FakePoll("agent-1", 1), connected(backend));
    exchange.fail(503, "The agent is shutting down and did not start the request.");
    assertEquals("error 503 retry 7: The agent is shutting down and did not start the request.", client.events.poll(5, TimeUnit.SECONDS));
  }

  @Test
  void aDeliveredRequestExpiresWith504() throws Exception {
    Backend backend = backend(10, 30, 1);
    FakeClient client = new FakeClient();
    Exchange exchange = open(backend, client);
    backend.submit(exchange);
    backend.poll(new FakePoll("agent-1", 1), connected(backend));
    later(Duration.ofSeconds(1));
    assertNull(client.events.poll(), "not before the response timeout passed");
    later(A_MOMENT);
    assertEquals("error 504 retry 0: The backend did not answer within 1 s.", client.events.poll());
  }

  @Test
  void aClientThatLeavesCancelsItsExchangeAndWakesTheAgent() throws Exception {
    Backend backend = backend(10, 30, 30);
    AgentSession session = connected(backend);
    FakeClient client = new FakeClient();
    Exchange exchange = open(backend, client);
    backend.submit(exchange);
    FakePoll first = new FakePoll("agent-1", 1);
    backend.poll(first, session);
    assertEquals(List.of(exchange.id()), first.answers.poll(5, TimeUnit.SECONDS));
    FakePoll listening = new FakePoll("agent-1", 0);
    backend.poll(listening, session);
    exchange.clientGone("test");
    assertEquals("discard", client.events.poll(5, TimeUnit.SECONDS));
    assertEquals(List.of("cancelled " + exchange.id()), listening.answers.poll(5, TimeUnit.SECONDS));
    assertFalse(exchange.startResponse(200), "a late answer is refused");
    assertEquals(0, session.inFlightCount());
  }

  @Test
  void aClientThatLeavesWhileQueuedFreesItsSlot() throws Exception {
    Backend backend = backend(1, 30, 30);
    Exchange exchange = open(backend, new FakeClient());
    backend.submit(exchange);
    exchange.clientGone("test");
    assertEquals(0, backend.queueDepth());
    FakeClient next = new FakeClient();
    backend.submit(open(backend, next));
    assertEquals(1, backend.queueDepth());
    assertNull(next.events.poll());
  }

  @Test
  void onlyOneResponseIsAcceptedAndCompletionNeedsIt() throws Exception {
    Backend backend = backend(10, 30, 30);
    FakeClient client = new FakeClient();
    Exchange exchange = open(backend, client);
    backend.submit(exchange);
    exchange.complete();
    assertEquals(ExchangeState.QUEUED, exchange.state(), "complete is only valid while responding");
    backend.poll(new FakePoll("agent-1", 1), connected(backend));
    assertTrue(exchange.startResponse(200));
    assertFalse(exchange.startResponse(200));
    client.committed = true;
    exchange.complete();
    assertEquals("complete", client.events.poll(5, TimeUnit.SECONDS));
    exchange.fail(502, "too late");
    assertNull(client.events.poll(), "an ended exchange ignores later transitions");
  }

  @Test
  void theRelaysOfAnOpenUpgradedConnectionAreToldToKeepItAliveOncePerInterval() throws Exception {
    // An agent that stays silent for a minute is not lost here: its connection outlives the test.
    tunnel = new Tunnel(ConfigLoader.parse("{\"backends\":[{\"id\":\"app\",\"agentTokenSha256\":[\"" + DIGEST
        + "\"]}],\"pollWaitSeconds\":30,\"agentGraceSeconds\":30,\"upgradeKeepaliveSeconds\":5}", "test"), clock);
    Backend backend = tunnel.backend("app");
    RequestHead head = new RequestHead(
        ExchangeIds.next(), backend.id(), "GET", "/ws", List.of(), BodyMode.NONE, 0, null, "websocket");
    Exchange exchange = backend.open(head, new FakeClient(), "127.0.0.1");
    backend.submit(exchange);
    AgentSession session = connected(backend);
    session.relaysUpgrades(true);
    backend.poll(FakePoll.relayingUpgrades("agent-1", 1), session);
    java.util.concurrent.atomic.AtomicInteger told = new java.util.concurrent.atomic.AtomicInteger();
    assertTrue(exchange.attach(new ExchangeRelay() {
      @Override
      public void exchangeEnded(ExchangeState state) {}

      @Override
      public void keepAlive() {
        told.incrementAndGet();
      }
    }));
    later(Duration.ofSeconds(6));
    assertEquals(0, told.get(), "not before the switch");
    assertEquals(ExchangeState.DELIVERED, exchange.state());

    assertTrue(exchange.startResponse(101));
    later(A_MOMENT);
    later(Duration.ofMillis(4_900));
    assertEquals(0, told.get(), "not within the first interval (upgradeKeepaliveSeconds, 5 s)");
    later(Duration.ofMillis(100));
    assertEquals(1, told.get());
    later(Duration.ofSeconds(2));
    later(Duration.ofSeconds(2));
    assertEquals(1, told.get(), "once per interval");
    later(Duration.ofSeconds(1));
    assertEquals(2, told.get());

    FakeClient.class.cast(exchange.client()).committed = true;
    exchange.complete();
    later(Duration.ofSeconds(10));
    assertEquals(2, told.get(), "not after the end");
  }

  @Test
  void aFailureAfterTheHeadWasSentCutsTheConnection() throws Exception {
    Backend backend = backend(10, 30, 30);
    FakeClient client = new FakeClient();
    Exchange exchange = open(backend, client);
    backend.submit(exchange);
    backend.poll(new FakePoll("agent-1", 1), connected(backend));
    assertTrue(exchange.startResponse(200));
    client.committed = true;
    exchange.fail(502, "The backend's response broke off.");
    assertEquals("abort: The backend's response broke off.", client.events.poll(5, TimeUnit.SECONDS));
  }

  @Test
  void anAgentThatStopsPollingIsLostAndItsExchangesFailWith502() throws Exception {
    Backend backend = backend(10, 30, 30);
    FakeClient client = new FakeClient();
    Exchange exchange = open(backend, client, "POST", BodyMode.NONE);
    backend.submit(exchange);
    FakePoll poll = new FakePoll("agent-1", 1);
    backend.poll(poll, connected(backend));
    assertEquals(List.of(exchange.id()), poll.answers.poll(5, TimeUnit.SECONDS));
    later(SILENCE_LOSES_AGENT);
    assertNull(client.events.poll(), "still within pollWaitSeconds plus agentGraceSeconds");
    later(A_MOMENT);
    assertEquals("error 502 retry 0: The agent serving this request was lost before it answered.", client.events.poll());
    assertTrue(backend.agents().isEmpty());
  }

  @Test
  void aParkedPollIsAnsweredEmptyWhenItsWaitEnds() throws Exception {
    Backend backend = backend(10, 30, 30);
    FakePoll poll = new FakePoll("agent-1", 4, clock.getAsLong() + Duration.ofSeconds(1).toNanos());
    backend.poll(poll, connected(backend));
    later(Duration.ofSeconds(1).minus(A_MOMENT));
    assertEquals(1, backend.parkedPolls());
    later(A_MOMENT);
    assertEquals(List.of(), poll.answers.poll());
    assertEquals(0, backend.parkedPolls());
  }

  private static Exchange open(Backend backend, FakeClient client, String method, BodyMode body) {
    String inline = body == BodyMode.INLINE ? "aGk=" : null;
    long length = body == BodyMode.NONE ? 0 : 2;
    RequestHead head = new RequestHead(ExchangeIds.next(), backend.id(), method, "/", List.of(), body, length, inline);
    return backend.open(head, client, "127.0.0.1");
  }

  /** Delivers the exchange to {@code agent}, which then never polls again. */
  private static void deliverToDoomedAgent(Backend backend, Exchange exchange, String agent) throws Exception {
    AgentSession session = backend.session(agent, "1", "127.0.0.1");
    session.greet();
    FakePoll poll = new FakePoll(agent, 1);
    backend.poll(poll, session);
    assertEquals(List.of(exchange.id()), poll.answers.poll(5, TimeUnit.SECONDS));
  }

  @Test
  void requeueIsOnlyFromDeliveredByItsOwnAgentAndOnlyOnce() throws Exception {
    Backend backend = backend(10, 30, 30);
    Exchange exchange = open(backend, new FakeClient());
    AgentSession one = connected(backend);
    AgentSession two = backend.session("agent-2", "1", "127.0.0.1");
    assertFalse(exchange.requeue(one), "a queued exchange cannot go back to the queue");
    backend.submit(exchange);
    backend.poll(new FakePoll("agent-1", 1), one);
    assertFalse(exchange.requeue(two), "only the owning agent's loss re-queues");
    assertTrue(exchange.requeue(one));
    assertEquals(ExchangeState.QUEUED, exchange.state());
    assertNull(exchange.agentId());
    assertEquals(1, exchange.requeues());
    assertTrue(exchange.deliver(two, clock.getAsLong()));
    assertFalse(exchange.requeue(two), "at most once");
    assertTrue(exchange.startResponse(200));
    assertFalse(exchange.requeue(two), "never once responding");
  }

  @Test
  void requeueIsRefusedOnceAnAgentStreamAttached() throws Exception {
    Backend backend = backend(10, 30, 30);
    Exchange exchange = open(backend, new FakeClient());
    backend.submit(exchange);
    AgentSession agent = connected(backend);
    backend.poll(new FakePoll("agent-1", 1), agent);
    assertTrue(exchange.attach(state -> {}));
    assertFalse(exchange.requeue(agent), "the agent already fetched the body or began a response");
  }

  @Test
  void requeueNeedsAnIdempotentMethodAndABodyTheProxyStillHolds() {
    String[][] table = {
      {"GET", "NONE", "true"}, {"HEAD", "NONE", "true"}, {"OPTIONS", "NONE", "true"}, {"TRACE", "NONE", "true"},
      {"PUT", "INLINE", "true"}, {"DELETE", "NONE", "true"}, {"PUT", "STREAM", "false"},
      {"POST", "NONE", "false"}, {"POST", "INLINE", "false"}, {"PATCH", "INLINE", "false"}, {"get", "NONE", "false"},
    };
    for (String[] row : table) {
      RequestHead head = new RequestHead("x", "app", row[0], "/", List.of(), BodyMode.valueOf(row[1]), 0, null);
      assertEquals(Boolean.parseBoolean(row[2]), Requeue.allows(head), row[0] + " " + row[1]);
    }
  }

  @Test
  void anIdempotentRequestOfALostAgentGoesOnceToAnotherAgentUnseenByTheClient() throws Exception {
    Backend backend = backend(10, 30, 30);
    FakeClient client = new FakeClient();
    Exchange exchange = open(backend, client, "PUT", BodyMode.INLINE);
    Exchange behind = open(backend, new FakeClient());
    backend.submit(exchange);
    deliverToDoomedAgent(backend, exchange, "agent-1");
    backend.submit(behind);
    // The survivor calls a second later than the doomed agent, so it is lost a second later too.
    clock.advance(Duration.ofSeconds(1));
    AgentSession survivor = backend.session("agent-2", "1", "127.0.0.1");
    survivor.greet();
    FakePoll waiting = new FakePoll("agent-2", 1);
    // The survivor's poll takes the request behind first; its next poll must get the re-queued one.
    backend.poll(waiting, survivor);
    assertEquals(List.of(behind.id()), waiting.answers.poll(5, TimeUnit.SECONDS));
    FakePoll next = new FakePoll("agent-2", 1);
    backend.poll(next, survivor);
    later(Duration.ofSeconds(1).plus(A_MOMENT));
    assertEquals(List.of(exchange.id()), next.answers.poll());
    assertEquals("agent-2", exchange.agentId());
    assertEquals(ExchangeState.DELIVERED, exchange.state());
    assertNull(client.events.poll(), "the client saw nothing");
    // Lost a second time: now the client gets the 502.
    later(SILENCE_LOSES_AGENT);
    assertEquals("error 502 retry 0: The agent serving this request was lost before it answered.", client.events.poll());
    assertEquals(1, exchange.requeues());
  }

  @Test
  void aRequeuedRequestGoesToTheFrontOfTheQueue() throws Exception {
    Backend backend = backend(10, 30, 30);
    Exchange first = open(backend, new FakeClient());
    backend.submit(first);
    deliverToDoomedAgent(backend, first, "agent-1");
    Exchange second = open(backend, new FakeClient());
    backend.submit(second);
    later(SILENCE_LOSES_AGENT.plus(A_MOMENT));
    assertEquals(ExchangeState.QUEUED, first.state());
    assertEquals(2, backend.queueDepth());
    AgentSession survivor = backend.session("agent-2", "1", "127.0.0.1");
    survivor.greet();
    FakePoll poll = new FakePoll("agent-2", 1);
    backend.poll(poll, survivor);
    assertEquals(List.of(first.id()), poll.answers.poll(5, TimeUnit.SECONDS));
  }

  @Test
  void aRequestThatMayNotBeRepeatedFailsWith502WhenItsAgentIsLost() throws Exception {
    Backend backend = backend(10, 30, 30);
    FakeClient post = new FakeClient();
    Exchange exchange = open(backend, post, "POST", BodyMode.INLINE);
    backend.submit(exchange);
    deliverToDoomedAgent(backend, exchange, "agent-1");
    later(SILENCE_LOSES_AGENT.plus(A_MOMENT));
    assertEquals("error 502 retry 0: The agent serving this request was lost before it answered.", post.events.poll());
    assertEquals(0, exchange.requeues());
  }

  @Test
  void requeueOnAgentLossFalseFailsEvenAGetWith502() throws Exception {
    Backend backend = backend(10, 30, 30, false);
    FakeClient client = new FakeClient();
    Exchange exchange = open(backend, client);
    backend.submit(exchange);
    deliverToDoomedAgent(backend, exchange, "agent-1");
    later(SILENCE_LOSES_AGENT.plus(A_MOMENT));
    assertEquals("error 502 retry 0: The agent serving this request was lost before it answered.", client.events.poll());
  }

  private static final String UNREACHABLE = "error 503 retry 7: The backend's agents report it unreachable; retry later.";

  @Test
  void whenEveryAgentReportsTheBackendDownRequestsGet503AtOnce() throws Exception {
    Backend backend = backend(10, 30, 30);
    AgentSession session = connected(backend);
    FakeClient queuedClient = new FakeClient();
    backend.submit(open(backend, queuedClient));
    assertEquals(1, backend.queueDepth());

    backend.reportHealth(session, false);
    assertEquals(UNREACHABLE, queuedClient.events.poll(5, TimeUnit.SECONDS), "the queued request is failed");
    FakeClient newClient = new FakeClient();
    backend.submit(open(backend, newClient));
    assertEquals(UNREACHABLE, newClient.events.poll(5, TimeUnit.SECONDS), "a new request is refused");
    FakePoll poll = new FakePoll("agent-1", 1);
    backend.poll(poll, session);
    assertEquals(1, backend.parkedPolls(), "a down agent's poll gets no work");

    backend.reportHealth(session, true);
    Exchange later = open(backend, new FakeClient());
    backend.submit(later);
    assertEquals(List.of(later.id()), poll.answers.poll(5, TimeUnit.SECONDS), "work resumes once it is up");
  }

  @Test
  void workGoesOnlyToAgentsThatReachTheBackend() throws Exception {
    Backend backend = backend(10, 30, 30);
    AgentSession down = connected(backend);
    AgentSession up = backend.session("agent-2", "1", "127.0.0.1");
    up.greet();
    FakePoll downPoll = new FakePoll("agent-1", 4);
    backend.poll(downPoll, down);
    backend.reportHealth(down, false);
    FakePoll upPoll = new FakePoll("agent-2", 4);
    backend.poll(upPoll, up);
    Exchange exchange = open(backend, new FakeClient());
    backend.submit(exchange);
    assertEquals(List.of(exchange.id()), upPoll.answers.poll(5, TimeUnit.SECONDS));
    assertNull(downPoll.answers.poll());
  }
}
