package dev.drawbridge.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.proxy.config.ConfigLoader;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An agent that dies (SIGKILL, power loss) leaves its polls held by the container, which notices a
 * dead peer only when it writes to it. So a request can be handed to a dead agent's poll. An agent
 * whose poll had room for more calls again at once after reading the answer; one that does not
 * within {@code agentGraceSeconds} is lost then, long before {@code pollWaitSeconds} run out.
 * Time moves only when a test moves the {@link ManualClock}.
 */
@Timeout(30)
class AgentHandoverTest {

  private static final String DIGEST = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  private static final Duration GRACE = Duration.ofSeconds(1);
  /** Longer than any test: the loss seen here can only come from the missed call. */
  private static final int POLL_WAIT_SECONDS = 60;
  private static final Duration A_MOMENT = Duration.ofMillis(1);
  private static final String LOST = "error 502 retry 0: The agent serving this request was lost before it answered.";

  private final ManualClock clock = new ManualClock();
  private Tunnel tunnel;
  private Backend backend;
  private AgentSession doomed;

  @BeforeEach
  void startTunnel() throws Exception {
    tunnel =
        new Tunnel(
            ConfigLoader.parse(
                "{\"backends\":[{\"id\":\"app\",\"agentTokenSha256\":[\"" + DIGEST + "\"]}],\"pollWaitSeconds\":"
                    + POLL_WAIT_SECONDS + ",\"agentGraceSeconds\":" + GRACE.toSeconds() + "}",
                "test"),
            clock);
    backend = tunnel.backend("app");
    doomed = backend.session("agent-1", "1", "127.0.0.1");
    doomed.greet();
  }

  @AfterEach
  void closeTunnel() {
    tunnel.close(Duration.ZERO);
  }

  @Test
  void aGetHandedToAnAgentThatNeverCallsAgainGoesToAnotherAgentAfterTheGrace() throws Exception {
    FakePoll taking = park("agent-1", 4);
    FakePoll stillWaiting = park("agent-1", 4);
    FakeClient client = new FakeClient();
    Exchange exchange = open(client, "GET");

    backend.submit(exchange);
    assertEquals(List.of(exchange.id()), taking.answers.poll(5, TimeUnit.SECONDS));
    later(GRACE);
    assertEquals(ExchangeState.DELIVERED, exchange.state(), "not lost before the grace passed");
    later(A_MOMENT);
    assertEquals(ExchangeState.QUEUED, exchange.state(), "lost once the grace passed");

    assertTrue(backend.agents().isEmpty(), "the agent is gone");
    assertEquals(List.of(), stillWaiting.answers.poll(5, TimeUnit.SECONDS), "its other poll is let go, empty");
    AgentSession survivor = backend.session("agent-2", "1", "127.0.0.1");
    survivor.greet();
    FakePoll other = park("agent-2", 4);
    assertEquals(List.of(exchange.id()), other.answers.poll(5, TimeUnit.SECONDS));
    assertNull(client.events.poll(), "the client saw nothing of it");
  }

  @Test
  void aPostHandedToAnAgentThatNeverCallsAgainFailsWith502AfterTheGrace() throws Exception {
    FakePoll taking = park("agent-1", 4);
    park("agent-1", 4);
    FakeClient client = new FakeClient();
    Exchange exchange = open(client, "POST");

    backend.submit(exchange);
    assertEquals(List.of(exchange.id()), taking.answers.poll(5, TimeUnit.SECONDS));
    later(GRACE);
    assertNull(client.events.poll(), "not before the grace passed");
    later(A_MOMENT);

    assertEquals(LOST, client.events.poll());
  }

  @Test
  void anAgentThatCallsAgainWithinTheGraceKeepsItsWork() throws Exception {
    FakePoll taking = park("agent-1", 4);
    FakeClient client = new FakeClient();
    Exchange exchange = open(client, "POST");
    backend.submit(exchange);
    assertEquals(List.of(exchange.id()), taking.answers.poll(5, TimeUnit.SECONDS));

    // The poller that took the work asks again, as a live agent's does.
    park("agent-1", 3);

    later(GRACE.multipliedBy(2));
    assertNull(client.events.poll(), "nothing happens");
    assertEquals(ExchangeState.DELIVERED, exchange.state());
    assertEquals(1, backend.agents().size());
  }

  @Test
  void aPollFilledToItsMaxExpectsNoCallSinceItsAgentMayWaitForASlot() throws Exception {
    FakePoll taking = park("agent-1", 1);
    park("agent-1", 0);
    FakeClient client = new FakeClient();
    Exchange exchange = open(client, "POST");
    backend.submit(exchange);
    assertEquals(List.of(exchange.id()), taking.answers.poll(5, TimeUnit.SECONDS));

    later(GRACE.multipliedBy(2));
    assertNull(client.events.poll(), "nothing happens");
    assertEquals(ExchangeState.DELIVERED, exchange.state());
  }

  @Test
  void aStreamedPollThatHandedOverWorkExpectsACallWithinTheGraceEvenWhenFull() throws Exception {
    // A plain poll filled to its max expects nothing (above); a stream's agent makes no next poll,
    // so every handover on it is to be followed by a call.
    FakeClient client = new FakeClient();
    postOnStream(FakePoll.streamed("agent-1", 1), backend.session("agent-1", "1", "127.0.0.1"), client);

    later(GRACE);
    assertNull(client.events.poll(), "not before the grace passed");
    later(A_MOMENT);
    assertEquals(LOST, client.events.poll());
  }

  @Test
  void aStreamedPollWaitingAgainAfterItsAnswerIsNoSignOfLife() throws Exception {
    FakePoll stream = FakePoll.streamed("agent-1", 4);
    AgentSession session = backend.session("agent-1", "1", "127.0.0.1");
    FakeClient client = new FakeClient();
    postOnStream(stream, session, client);

    // The answer was written (into a dead peer's socket, for all the proxy knows): the stream waits again.
    later(A_MOMENT);
    backend.pollAgain(stream, session);
    later(GRACE);
    assertEquals(LOST, client.events.poll());
  }

  @Test
  void aStreamedPollsAgentThatCallsWithinTheGraceKeepsItsWork() throws Exception {
    FakePoll stream = FakePoll.streamed("agent-1", 4);
    AgentSession session = backend.session("agent-1", "1", "127.0.0.1");
    FakeClient client = new FakeClient();
    Exchange exchange = postOnStream(stream, session, client);
    backend.pollAgain(stream, session);

    // Any call counts: the work's answer, or the agent's alive call for a slow backend.
    later(GRACE.dividedBy(2));
    backend.session("agent-1", "1", "127.0.0.1");
    later(GRACE.multipliedBy(2));
    assertNull(client.events.poll(), "nothing happens");
    assertEquals(ExchangeState.DELIVERED, exchange.state());
    assertEquals(1, backend.agents().size());
  }

  @Test
  void aGetWhosePollAnswerCouldNotBeWrittenGoesToTheNextPollAndAPostGets502() throws Exception {
    AgentSession session = backend.session("agent-1", "1", "127.0.0.1");
    FakePoll dead = park("agent-1", 4);
    FakeClient getClient = new FakeClient();
    Exchange get = open(getClient, "GET");
    backend.submit(get);
    assertEquals(List.of(get.id()), dead.answers.poll(5, TimeUnit.SECONDS));

    // The poll's connection was reset (a cut path): its answer could not be written.
    backend.undelivered(List.of(get), session);
    assertEquals(ExchangeState.QUEUED, get.state());
    FakePoll live = park("agent-1", 4);
    assertEquals(List.of(get.id()), live.answers.poll(5, TimeUnit.SECONDS), "the next poll gets it");
    assertNull(getClient.events.poll(), "the client saw nothing of it");

    FakePoll alsoDead = park("agent-1", 4);
    FakeClient postClient = new FakeClient();
    Exchange post = open(postClient, "POST");
    backend.submit(post);
    assertEquals(List.of(post.id()), alsoDead.answers.poll(5, TimeUnit.SECONDS));
    backend.undelivered(List.of(post), session);
    assertEquals("error 502 retry 0: The connection to the agent broke while the request was handed over.",
        postClient.events.poll());
  }

  /** Parks {@code stream} for {@code session}, then hands it a POST of {@code client}'s. */
  private Exchange postOnStream(FakePoll stream, AgentSession session, FakeClient client) throws Exception {
    backend.poll(stream, session);
    Exchange exchange = open(client, "POST");
    backend.submit(exchange);
    assertEquals(List.of(exchange.id()), stream.answers.poll(5, TimeUnit.SECONDS));
    return exchange;
  }

  /** Moves the clock on by {@code duration}, then enforces every deadline as the reaper would. */
  private void later(Duration duration) {
    clock.advance(duration);
    tunnel.sweep();
  }

  /** A poll of {@code agentId}, arriving as a call: parked, or answered at once when work waits. */
  private FakePoll park(String agentId, int max) {
    FakePoll poll = new FakePoll(agentId, max);
    backend.poll(poll, backend.session(agentId, "1", "127.0.0.1"));
    return poll;
  }

  private Exchange open(FakeClient client, String method) {
    RequestHead head = new RequestHead(ExchangeIds.next(), "app", method, "/", List.of(), BodyMode.NONE, 0, null);
    return backend.open(head, client, "127.0.0.1");
  }
}
