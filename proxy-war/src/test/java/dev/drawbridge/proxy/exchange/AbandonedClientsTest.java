package dev.drawbridge.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.proxy.config.ConfigLoader;
import dev.drawbridge.proxy.net.ConnectionKey;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Requests whose clients closed their connections leave the queue, and their agent, within a second or so. */
@Timeout(30)
class AbandonedClientsTest {

  private static final String DIGEST = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  /** The check's interval, the reaper's sweep and a busy machine. */
  private static final Duration WITHIN = Duration.ofSeconds(5);

  private final Set<ConnectionKey> closed = ConcurrentHashMap.newKeySet();
  private Tunnel tunnel;
  private Backend backend;

  @BeforeEach
  void startTunnel() throws Exception {
    tunnel =
        new Tunnel(
            ConfigLoader.parse(
                "{\"backends\":[{\"id\":\"app\",\"agentTokenSha256\":[\"" + DIGEST + "\"],\"queueTimeoutSeconds\":600,"
                    + "\"responseTimeoutSeconds\":600}],\"pollWaitSeconds\":600,\"agentGraceSeconds\":600}",
                "test"),
            () -> Set.copyOf(closed));
    backend = tunnel.backend("app");
  }

  @AfterEach
  void closeTunnel() {
    tunnel.close(Duration.ZERO);
  }

  @Test
  void aQueuedRequestWhoseClientClosedItsConnectionLeavesTheQueue() {
    FakeClient gone = client(50000);
    FakeClient waiting = client(50001);
    Exchange abandoned = open(gone);
    Exchange alive = open(waiting);
    backend.submit(abandoned);
    backend.submit(alive);

    closed.add(gone.connection);

    Awaitility.await().atMost(WITHIN).until(() -> "discard".equals(gone.events.peek()));
    assertEquals(ExchangeState.CLIENT_GONE, abandoned.state());
    assertEquals(1, backend.queueDepth(), "the live client's request stays");
    assertEquals(ExchangeState.QUEUED, alive.state());
    assertNull(waiting.events.poll());
  }

  @Test
  void aRequestAtAnAgentWhoseClientClosedItsConnectionIsCancelledThere() throws Exception {
    AgentSession agent = backend.session("agent-1", "1", "127.0.0.1");
    agent.greet();
    FakeClient gone = client(50002);
    Exchange abandoned = open(gone);
    FakePoll taking = new FakePoll("agent-1", 4);
    backend.poll(taking, agent);
    backend.submit(abandoned);
    assertEquals(List.of(abandoned.id()), taking.answers.poll(5, TimeUnit.SECONDS));
    FakePoll listening = new FakePoll("agent-1", 4);
    backend.poll(listening, agent);

    closed.add(gone.connection);

    assertEquals(List.of("cancelled " + abandoned.id()), listening.answers.poll(WITHIN.toMillis(), TimeUnit.MILLISECONDS));
    assertEquals(ExchangeState.CLIENT_GONE, abandoned.state());
    assertEquals(0, agent.inFlightCount());
  }

  private static FakeClient client(int port) {
    FakeClient client = new FakeClient();
    client.connection = ConnectionKey.of("127.0.0.1", 8080, "127.0.0.1", port);
    return client;
  }

  private Exchange open(FakeClient client) {
    RequestHead head = new RequestHead(ExchangeIds.next(), "app", "GET", "/", List.of(), BodyMode.NONE, 0, null);
    return backend.open(head, client, "127.0.0.1");
  }
}
