package dev.drawbridge.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The agent's attachment to one proxy node: its own connections, response batcher, link state
 * (with its own backoff and log lines) and pollers. Exchanges fetched from a node are answered to
 * that node, since only it holds their clients. A link let go of (its node left DNS) stops polling
 * at once and closes its connections once its last exchange ended.
 */
final class NodeLink implements Capacity.Owner {

  /** How long stopping pollers may take; they only wait on cancelled calls by then. */
  private static final long POLLER_STOP_MILLIS = 5_000;

  private final ProxyNode node;
  private final ProxyClient proxyClient;
  private final ResponseBatcher batcher;
  private final ProxyLink link;
  private final List<Poller> pollers = new ArrayList<>();
  private final List<Thread> pollerThreads = new ArrayList<>();
  private final AtomicInteger exchanges = new AtomicInteger();
  private volatile boolean detached;
  private boolean closed;

  NodeLink(AgentConfig config, ProxyNode node, TokenSource token, ProxyLink.Attachments attachments,
      Supplier<String> nodesReport) {
    this.node = node;
    this.proxyClient = new ProxyClient(config, node, token, nodesReport);
    // The call ahead of a response may take a whole proxy timeout, and so may its own.
    this.batcher = new ResponseBatcher(proxyClient::sendBatch, config.proxyTimeout().multipliedBy(2));
    this.link = new ProxyLink(config, node, attachments);
  }

  /** Starts {@code polls} pollers asking for work and one that only listens. */
  synchronized void start(Agent agent, AgentConfig config, Capacity capacity, BackendHealth health, ThreadFactory threads) {
    capacity.join(this);
    // One extra poller only listens: it keeps the agent visible to the node when all slots are busy.
    for (int i = 0; i <= config.polls(); i++) {
      Poller poller = new Poller(agent, this, capacity, config.maxBackoff(), i == config.polls(), health);
      Thread thread = threads.newThread(poller);
      pollers.add(poller);
      pollerThreads.add(thread);
      thread.start();
    }
  }

  ProxyNode node() {
    return node;
  }

  @Override
  public boolean takesWork() {
    ProxyLink.State state = link.state();
    return state == ProxyLink.State.CONNECTED || state == ProxyLink.State.STARTING;
  }

  ProxyClient proxyClient() {
    return proxyClient;
  }

  ResponseBatcher batcher() {
    return batcher;
  }

  ProxyLink link() {
    return link;
  }

  /** The backend's health changed: lets each poller tell this node at once. */
  void healthChanged() {
    pollers.forEach(Poller::healthChanged);
  }

  /**
   * Stops polling this node and waits for the pollers to end; exchanges already fetched keep
   * running. Returns once no poller holds a capacity slot.
   */
  void stopPolling(Capacity capacity) throws InterruptedException {
    List<Thread> threads;
    synchronized (this) {
      pollers.forEach(Poller::stop);
      threads = List.copyOf(pollerThreads);
    }
    for (Thread thread : threads) {
      thread.interrupt();
      thread.join(POLLER_STOP_MILLIS);
    }
    capacity.leave(this);
  }

  /** Tells the node this agent takes no more work from it; best effort. */
  void leave() {
    proxyClient.leave();
  }

  /** An exchange fetched from this node starts. */
  void exchangeStarted() {
    exchanges.incrementAndGet();
  }

  /** An exchange fetched from this node ended; the last one of a let-go node closes its connections. */
  void exchangeEnded() {
    if (exchanges.decrementAndGet() == 0 && detached) {
      close();
    }
  }

  /** The node left: closes the connections now, or when its last exchange ends. */
  void detach() {
    detached = true;
    if (exchanges.get() == 0) {
      close();
    }
  }

  /** Closes the node's connections; exchanges still using them fail. */
  synchronized void close() {
    if (!closed) {
      closed = true;
      proxyClient.close();
    }
  }
}
