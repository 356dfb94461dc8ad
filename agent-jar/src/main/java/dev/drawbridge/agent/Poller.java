package dev.drawbridge.agent;

import dev.drawbridge.protocol.PollResult;
import dev.drawbridge.protocol.RequestHead;
import java.io.IOException;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.hc.client5.http.classic.methods.HttpPost;

/**
 * One long-poll loop toward one proxy node: reserve free slots, ask the node for at most that many
 * exchanges, hand each to the agent, give back the slots not used. Reconnects with backoff after
 * any failure; the agent's other nodes are not affected.
 */
final class Poller implements Runnable {

  private static final Logger LOG = Logger.getLogger(Poller.class.getName());

  private final Agent agent;
  private final NodeLink node;
  private final ProxyClient proxyClient;
  private final Capacity capacity;
  private final ProxyLink proxyLink;
  private final Backoff backoff;
  private final boolean listenOnly;
  private final BackendHealth health;
  private volatile HttpPost agentPoll;
  private volatile int agentPollMax;
  private volatile boolean healthChanged;
  private volatile boolean stopped;

  /**
   * @param listenOnly true for the poller that asks for no work: it keeps one poll outstanding even
   *     while every slot is busy, so the proxy still sees the agent alive and can pass cancellations
   */
  Poller(Agent agent, NodeLink node, Capacity capacity, Duration maxBackoff, boolean listenOnly, BackendHealth health) {
    this.listenOnly = listenOnly;
    this.health = health;
    this.agent = agent;
    this.node = node;
    this.proxyClient = node.proxyClient();
    this.capacity = capacity;
    this.proxyLink = node.link();
    this.backoff = new Backoff(maxBackoff);
  }

  @Override
  public void run() {
    try {
      while (!stopped) {
        pollOnce();
      }
    } catch (InterruptedException e) {
      // stop() interrupts a poller that waits for a slot or a retry.
    } catch (Error e) {
      agent.fatal(e);
    }
  }

  private void pollOnce() throws InterruptedException {
    int reserved = listenOnly ? 0 : capacity.reserve(node, AgentConfig.MAX_POLL_BATCH);
    // Read after the reservation, which may have waited long: the poll says what is true now.
    boolean backendUp = health.isUp();
    if (!backendUp) {
      capacity.settle(node, reserved, 0);
      reserved = 0;
    }
    PollResult result;
    try {
      result = fetch(reserved, backendUp);
    } catch (IOException | RuntimeException e) {
      // HttpClient reports a cancelled call with unchecked exceptions too; after stop() all are expected.
      capacity.settle(node, reserved, 0);
      if (healthChanged) {
        healthChanged = false;
        return;
      }
      if (!stopped) {
        retryAfter(e);
      }
      return;
    }
    if (result == null) {
      capacity.settle(node, reserved, 0);
      return;
    }
    // A draining node's answers are not a reconnection: its backoff keeps growing, its state stays.
    if (!result.draining()) {
      proxyLink.connected(proxyClient.proxyVersion());
      backoff.reset();
    }
    int used = 0;
    try {
      for (RequestHead clientRequest : result.exchanges()) {
        // Exchanges beyond what was asked still get an answer, but hold no slot of their own.
        agent.dispatch(clientRequest, used < reserved, node);
        used++;
      }
      for (String id : result.cancelled()) {
        agent.cancel(id, node);
      }
    } finally {
      capacity.settle(node, reserved, used);
    }
    if (result.draining() && !stopped) {
      Duration wait = backoff.next();
      proxyLink.proxyDraining(wait);
      agent.awaitStop(wait);
    }
  }

  /** Runs one poll; null when stopped before it was sent. */
  private PollResult fetch(int max, boolean backendUp) throws IOException {
    HttpPost poll = proxyClient.pollRequest(max, backendUp);
    // Published before the stopped check, so stop() either sees this poll or this poll sees stopped.
    agentPollMax = max;
    agentPoll = poll;
    try {
      return stopped ? null : proxyClient.poll(poll);
    } finally {
      agentPoll = null;
    }
  }

  private void retryAfter(Exception failure) throws InterruptedException {
    Duration wait;
    if (failure instanceof ProxyStatusException
        && (((ProxyStatusException) failure).isAuthProblem()
            || ((ProxyStatusException) failure).isConfigProblem())) {
      wait = backoff.max();
      proxyLink.rejected((ProxyStatusException) failure, wait);
    } else {
      wait = backoff.next();
      if (!(failure instanceof ProxyStatusException)) {
        proxyClient.dropIdleConnections();
      }
      proxyLink.failed(Reasons.describe(failure), wait);
      LOG.log(Level.FINE, "poll failed", failure);
    }
    agent.awaitStop(wait);
  }

  /**
   * The backend's health changed: a poll asking for no work is aborted, so the next poll tells the
   * proxy at once (and asks for work again once the backend is back). A poll that asked for work
   * is left alone, since the proxy may be handing it exchanges right now; the proxy gives no new
   * work to an agent that reported its backend down.
   */
  void healthChanged() {
    HttpPost poll = agentPoll;
    if (poll != null && agentPollMax == 0) {
      healthChanged = true;
      poll.cancel();
    }
  }

  /**
   * Ends the loop after the poll in flight, whose answer is still read and passed on: for a drain,
   * once the proxy knows the agent is leaving and answers its polls at once.
   */
  void finish() {
    stopped = true;
  }

  /** True while a poll is on its way to the proxy or back. */
  boolean inCall() {
    return agentPoll != null;
  }

  /** Ends the loop and aborts the poll in flight; exchanges it already handed out keep running. */
  void stop() {
    stopped = true;
    HttpPost poll = agentPoll;
    if (poll != null) {
      poll.cancel();
    }
  }
}
