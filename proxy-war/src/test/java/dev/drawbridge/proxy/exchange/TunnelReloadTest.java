package dev.drawbridge.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.proxy.auth.AgentTokens;
import dev.drawbridge.proxy.config.ConfigLoader;
import dev.drawbridge.proxy.config.ProxySettings;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What {@link Tunnel#apply} does to each kind of live traffic, without a servlet container. */
@Timeout(30)
class TunnelReloadTest {

  private static final String OLD = hex("old-token");
  private static final String NEW = hex("new-token");

  private Tunnel tunnel;

  @AfterEach
  void close() {
    if (tunnel != null) {
      tunnel.close(Duration.ZERO);
    }
  }

  private static String hex(String token) {
    return HexFormat.of().formatHex(AgentTokens.sha256(token));
  }

  private static ProxySettings settings(String backends, String more) throws Exception {
    return ConfigLoader.parse("{\"backends\":[" + backends + "],\"retryAfterSeconds\":7,\"drainGraceSeconds\":1" + more + "}", "test");
  }

  private static String backend(String id, String digests, int queueTimeoutSeconds) {
    return "{\"id\":\"" + id + "\",\"agentTokenSha256\":[" + digests + "],\"queueTimeoutSeconds\":" + queueTimeoutSeconds + "}";
  }

  private static Exchange open(Backend backend, FakeClient client) {
    RequestHead head = new RequestHead(ExchangeIds.next(), backend.id(), "GET", "/", List.of(), BodyMode.NONE, 0, null);
    Exchange exchange = backend.open(head, client, "127.0.0.1");
    backend.submit(exchange);
    return exchange;
  }

  /** An agent of {@code backend} calling with {@code token}, past its first (always answered) poll. */
  private static AgentSession agent(Backend backend, String name, String token) {
    AgentSession session = backend.session(name, "1", "127.0.0.1", AgentTokens.sha256(token));
    session.greet();
    return session;
  }

  @Test
  void anAddedBackendTakesRequestsAndAKeptOneKeepsItsQueueAndAgents() throws Exception {
    tunnel = new Tunnel(settings(backend("app", "\"" + OLD + "\"", 30), ""));
    Backend app = tunnel.backend("app");
    FakeClient waiting = new FakeClient();
    Exchange queued = open(app, waiting);

    tunnel.apply(settings(backend("app", "\"" + OLD + "\"", 30) + "," + backend("wiki", "\"" + OLD + "\"", 30), ""));

    assertSame(app, tunnel.backend("app"), "a kept backend is the same object: its queue and agents stay");
    assertEquals(ExchangeState.QUEUED, queued.state());
    Backend wiki = tunnel.backend("wiki");
    FakePoll poll = new FakePoll("agent-w", 4);
    wiki.poll(poll, agent(wiki, "agent-w", "old-token"));
    Exchange next = open(wiki, new FakeClient());
    assertEquals(List.of(next.id()), poll.answers.poll(5, TimeUnit.SECONDS));
  }

  @Test
  void changedLimitsApplyToNewRequestsOnly() throws Exception {
    tunnel = new Tunnel(settings(backend("app", "\"" + OLD + "\"", 30), ""));
    Exchange before = open(tunnel.backend("app"), new FakeClient());

    tunnel.apply(settings(backend("app", "\"" + OLD + "\"", 1), ",\"idleTimeoutSeconds\":5"));
    Exchange after = open(tunnel.backend("app"), new FakeClient());

    assertEquals(Duration.ofSeconds(30), before.limits().queueTimeout());
    assertEquals(Duration.ofSeconds(60), before.limits().idleTimeout());
    assertEquals(Duration.ofSeconds(1), after.limits().queueTimeout());
    assertEquals(Duration.ofSeconds(5), after.limits().idleTimeout());
  }

  @Test
  void aRemovedBackendRefusesItsQueueTellsItsAgentsAndCutsWhatRunsAfterTheGrace() throws Exception {
    tunnel = new Tunnel(settings(backend("app", "\"" + OLD + "\"", 30) + "," + backend("gone", "\"" + OLD + "\"", 30), ""));
    Backend gone = tunnel.backend("gone");
    FakePoll busy = new FakePoll("agent-g", 1);
    gone.poll(busy, agent(gone, "agent-g", "old-token"));
    FakeClient atAgent = new FakeClient();
    Exchange delivered = open(gone, atAgent);
    assertEquals(List.of(delivered.id()), busy.answers.poll(5, TimeUnit.SECONDS));
    FakeClient queuedClient = new FakeClient();
    open(gone, queuedClient);
    FakePoll parked = new FakePoll("agent-g", 0);
    gone.poll(parked, gone.session("agent-g", "1", "127.0.0.1", AgentTokens.sha256("old-token")));

    tunnel.apply(settings(backend("app", "\"" + OLD + "\"", 30), ""));

    assertEquals("error 503 retry 7: " + Backend.REMOVED, queuedClient.events.poll(5, TimeUnit.SECONDS));
    assertEquals(List.of("draining"), parked.answers.poll(5, TimeUnit.SECONDS), "its agent is told");
    assertEquals(ExchangeState.DELIVERED, delivered.state(), "a request at its agent may still finish");
    assertSame(gone, tunnel.backend("gone"), "its agents' answers still find it during the grace");
    FakeClient late = new FakeClient();
    open(gone, late);
    assertEquals("error 503 retry 7: " + Backend.REMOVED, late.events.poll(5, TimeUnit.SECONDS));
    assertEquals("error 503 retry 7: " + Backend.REMOVED, atAgent.events.poll(10, TimeUnit.SECONDS), "cut after the grace");
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> tunnel.backend("gone") == null);
  }

  @Test
  void aRevokedTokensHeldPollsEndAtOnceAndTheOthersStay() throws Exception {
    tunnel = new Tunnel(settings(backend("app", "\"" + OLD + "\",\"" + NEW + "\"", 30), ""));
    Backend app = tunnel.backend("app");
    FakePoll oldPoll = new FakePoll("agent-old", 4);
    app.poll(oldPoll, agent(app, "agent-old", "old-token"));
    FakePoll newPoll = new FakePoll("agent-new", 4);
    app.poll(newPoll, agent(app, "agent-new", "new-token"));
    assertEquals(2, app.parkedPolls());

    tunnel.apply(settings(backend("app", "\"" + NEW + "\"", 30), ""));

    assertEquals(List.of(), oldPoll.answers.poll(5, TimeUnit.SECONDS), "ended at once, empty");
    assertNull(newPoll.answers.poll(200, TimeUnit.MILLISECONDS), "an agent with a listed token keeps its poll");
    assertEquals(1, app.parkedPolls());
  }
}
