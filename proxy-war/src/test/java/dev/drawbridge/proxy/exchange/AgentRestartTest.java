package dev.drawbridge.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
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
 * An agent restarted under the same agent id (a fixed {@code --agent-id} in a service unit) is a new
 * process with a new instance: the proxy ends the previous process as lost at once, rather than
 * taking the newcomer's calls as signs of life of the old one and letting its requests wait for
 * their deadline.
 */
@Timeout(30)
class AgentRestartTest {

  private static final String DIGEST = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  /** Far beyond the test: whatever ends the old process here is the new process's arrival. */
  private static final int SLOW_SECONDS = 120;
  /** The reaper's sweep on a busy machine. */
  private static final long AT_ONCE_MILLIS = 5_000;
  private static final String LOST = "error 502 retry 0: The agent serving this request was lost before it answered.";

  private Tunnel tunnel;
  private Backend backend;

  @BeforeEach
  void startTunnel() throws Exception {
    tunnel =
        new Tunnel(
            ConfigLoader.parse(
                "{\"backends\":[{\"id\":\"app\",\"agentTokenSha256\":[\"" + DIGEST + "\"],\"queueTimeoutSeconds\":"
                    + SLOW_SECONDS + ",\"responseTimeoutSeconds\":" + SLOW_SECONDS + "}],\"pollWaitSeconds\":"
                    + SLOW_SECONDS + ",\"agentGraceSeconds\":" + SLOW_SECONDS + "}",
                "test"));
    backend = tunnel.backend("app");
  }

  @AfterEach
  void closeTunnel() {
    tunnel.close(Duration.ZERO);
  }

  @Test
  void aNewProcessUnderTheSameAgentIdEndsThePreviousOneAtOnce() throws Exception {
    AgentSession old = arrive("first-process");
    FakePoll taking = park(old, 4);
    FakePoll stillWaiting = park(old, 4);
    FakeClient getClient = new FakeClient();
    FakeClient postClient = new FakeClient();
    Exchange get = open(getClient, "GET");
    Exchange post = open(postClient, "POST");
    backend.submit(get);
    assertEquals(List.of(get.id()), taking.answers.poll(5, TimeUnit.SECONDS));
    backend.submit(post);
    assertEquals(List.of(post.id()), stillWaiting.answers.poll(5, TimeUnit.SECONDS));

    AgentSession restarted = arrive("second-process");
    FakePoll fresh = park(restarted, 4);

    assertEquals(List.of(get.id()), fresh.answers.poll(AT_ONCE_MILLIS, TimeUnit.MILLISECONDS),
        "the GET the old process held goes to the new one");
    assertSame(restarted, get.owner());
    assertNull(getClient.events.poll(), "its client saw nothing of it");
    assertEquals(LOST, postClient.events.poll(AT_ONCE_MILLIS, TimeUnit.MILLISECONDS), "a POST may not be repeated");
    assertEquals(List.of(restarted), List.copyOf(backend.agents()));
  }

  @Test
  void theReplacedProcessIsRefusedAndItsPollsGetNoWork() throws Exception {
    AgentSession old = arrive("first-process");
    AgentSession restarted = arrive("second-process");

    assertNull(backend.session("agent-1", "first-process", "1", "127.0.0.1"), "the old process's calls are refused");
    FakePoll late = new FakePoll("agent-1", 4);
    Exchange queuedMeanwhile = open(new FakeClient(), "GET");
    backend.submit(queuedMeanwhile);
    // A poll of the old process that passed the check before the new one arrived.
    backend.poll(late, old);
    assertEquals(List.of(), late.answers.poll(5, TimeUnit.SECONDS), "answered at once, with nothing");
    FakePoll fresh = park(restarted, 4);
    assertEquals(List.of(queuedMeanwhile.id()), fresh.answers.poll(5, TimeUnit.SECONDS));
  }

  @Test
  void aProcessShuttingDownGracefullyFinishesItsWorkBesideItsSuccessor() throws Exception {
    AgentSession old = arrive("first-process");
    FakePoll taking = park(old, 4);
    FakeClient client = new FakeClient();
    Exchange post = open(client, "POST");
    backend.submit(post);
    assertEquals(List.of(post.id()), taking.answers.poll(5, TimeUnit.SECONDS));
    backend.agentLeaving(old);

    AgentSession successor = arrive("second-process");

    assertSame(old, backend.session("agent-1", "first-process", "1", "127.0.0.1"), "its calls still count");
    assertNull(client.events.poll(2, TimeUnit.SECONDS), "its request goes on");
    assertEquals(ExchangeState.DELIVERED, post.state());
    assertEquals(2, backend.agents().size());
    assertTrue(backend.agents().contains(successor));
  }

  @Test
  void aPollOfAnAgentShuttingDownIsAnsweredAtOnceWithNothing() throws Exception {
    AgentSession leaving = arrive("first-process");
    Exchange queued = open(new FakeClient(), "GET");
    backend.agentLeaving(leaving);
    backend.submit(queued);
    // A poll the agent sent before it said goodbye, arriving after: it may not read the answer.
    FakePoll late = park(leaving, 4);
    assertEquals(List.of(), late.answers.poll(5, TimeUnit.SECONDS));
    assertEquals(ExchangeState.QUEUED, queued.state(), "the request waits for another agent");
  }

  @Test
  void agentsThatSendNoInstanceAreOneAgentPerAgentIdAsBefore() {
    AgentSession first = backend.session("agent-1", "1", "127.0.0.1");
    assertSame(first, backend.session("agent-1", "1", "127.0.0.1"));
    assertEquals(1, backend.agents().size());
  }

  @Test
  void anotherAgentIdIsAnotherAgent() {
    AgentSession one = arrive("first-process");
    AgentSession other = backend.session("agent-2", "other-process", "1", "127.0.0.1");
    assertEquals(2, backend.agents().size());
    assertTrue(backend.agents().contains(one) && backend.agents().contains(other));
  }

  /** The first call of a process of agent-1; its first poll was answered, so later ones park. */
  private AgentSession arrive(String instance) {
    AgentSession session = backend.session("agent-1", instance, "1", "127.0.0.1");
    session.greet();
    return session;
  }

  private FakePoll park(AgentSession session, int max) {
    FakePoll poll = new FakePoll(session.agentId(), max);
    backend.poll(poll, session);
    return poll;
  }

  private Exchange open(FakeClient client, String method) {
    RequestHead head = new RequestHead(ExchangeIds.next(), "app", method, "/", List.of(), BodyMode.NONE, 0, null);
    return backend.open(head, client, "127.0.0.1");
  }
}
