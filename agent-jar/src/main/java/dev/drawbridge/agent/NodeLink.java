package dev.drawbridge.agent;

import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The agent's attachment to one proxy node: its own connections, response batcher, link state
 * (with its own backoff and log lines) and pollers. Exchanges fetched from a node are answered to
 * that node, since only it holds their clients. A link let go of (its node left DNS) stops polling
 * at once and closes its connections once its last exchange ended.
 */
final class NodeLink implements Capacity.Owner {

  private static final Logger LOG = Logger.getLogger(NodeLink.class.getName());

  /** How long stopping pollers may take; they only wait on cancelled calls by then. */
  static final long POLLER_STOP_MILLIS = 5_000;

  private final ProxyNode node;
  private final ProxyClient proxyClient;
  private final ResponseBatcher batcher;
  private final ProxyLink link;
  private final List<Poller> pollers = new ArrayList<>();
  private final AtomicInteger exchanges = new AtomicInteger();
  private volatile boolean detached;
  /** Streamed polls are wanted (the agent's setting). */
  private final boolean streamedPolls;
  /**
   * The last verdict on the way to this node: true when it passes streams on as they are written,
   * false when it holds them back, null before the first.
   */
  private volatile Boolean streamsPass;
  private CallDuty callDuty;
  private boolean closed;

  NodeLink(AgentConfig config, ProxyNode node, TokenSource token, String instance,
      ProxyLink.Attachments attachments, Supplier<String> nodesReport) {
    this.node = node;
    this.proxyClient = new ProxyClient(config, node, token, instance, nodesReport);
    // The call ahead of a response may take a whole proxy timeout, and so may its own.
    this.batcher = new ResponseBatcher(proxyClient::sendBatch, config.proxyTimeout().multipliedBy(2));
    this.link = new ProxyLink(config, node, attachments, this::reconnected);
    this.streamedPolls = config.transport().streamedPolls();
  }

  /** Starts {@code polls} pollers asking for work and one that only listens, on {@code carriers}. */
  synchronized void start(Agent agent, AgentConfig config, Capacity capacity, BackendHealth health, Executor carriers) {
    capacity.join(this);
    callDuty = new CallDuty(proxyClient, carriers);
    if (config.transport().streamedResponses()) {
      batcher.streamWith(new ResponseStream(proxyClient::sendStream, proxyClient::sendBatch, carriers, node.describe()));
    }
    // One extra poller only listens: it keeps the agent visible to the node when all slots are busy.
    for (int i = 0; i <= config.polls(); i++) {
      Poller poller = new Poller(agent, this, capacity, config.maxBackoff(), i == config.polls(), health, carriers);
      pollers.add(poller);
      carriers.execute(poller);
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

  /**
   * True when a poll to this node is to be streamed. The poller that only listens streams its polls
   * first: they carry no work, so a stream held back on the way delays nothing; the pollers asking
   * for work stream theirs only once such a stream showed that it reaches the agent as written.
   */
  boolean streamsPolls(boolean listenOnly) {
    return streamedPolls && (listenOnly || Boolean.TRUE.equals(streamsPass));
  }

  /**
   * Records what the listening poll's stream showed of the way to this node. The listening poll
   * goes on streaming either way, so a way that stops holding streams back (or a verdict that a
   * stall of this machine got wrong) is found on its next stream.
   */
  void streamVerdict(boolean passesOn) {
    if (Boolean.valueOf(passesOn).equals(streamsPass)) {
      return;
    }
    streamsPass = passesOn;
    if (passesOn) {
      LOG.info("Streamed polls from proxy " + node.describe() + " reach this agent as they are written;"
          + " taking work from them");
    } else {
      LOG.warning("Something between this agent and proxy " + node.describe()
          + " holds streamed polls back; polling it plainly while it does");
    }
  }

  /** Work was taken from a streamed poll whose node expects a call within {@code withinMillis}. */
  void tookStreamedWork(long withinMillis) {
    callDuty.tookWork(withinMillis);
  }

  /** The backend's health changed: lets each poller tell this node at once. */
  void healthChanged() {
    pollers.forEach(Poller::healthChanged);
  }

  /** Tells the node this agent takes no more work from it; best effort. */
  void leave() {
    proxyClient.leave();
  }

  /**
   * Ends the pollers without cutting a poll that may carry requests: such requests would be lost
   * to both sides until the node's response timeout. Each poller ends after the call it is in;
   * then the node is told goodbye ({@link #leave}), after which it hands this agent no more work
   * and answers its held polls at once. Each poller reads its last answer, passes on what it got (a
   * draining agent refuses it with 503) and ends. Pollers waiting for a slot are woken; one still in
   * a call at {@code deadlineNanos} (a node that does not answer) is cut. Returns once no poller
   * holds a capacity slot.
   */
  void finishPolling(Capacity capacity, long deadlineNanos) throws InterruptedException {
    List<Poller> finishing;
    synchronized (this) {
      finishing = List.copyOf(pollers);
    }
    finishing.forEach(Poller::finish);
    leave();
    for (Poller poller : finishing) {
      if (!poller.inCall()) {
        poller.interruptWait();
      }
    }
    for (Poller poller : finishing) {
      poller.awaitEnd(Math.max(1, deadlineNanos - System.nanoTime()));
    }
    for (Poller poller : finishing) {
      if (!poller.hasEnded()) {
        poller.stop();
        poller.interruptWait();
        poller.awaitEnd(TimeUnit.MILLISECONDS.toNanos(POLLER_STOP_MILLIS));
      }
    }
    capacity.leave(this);
  }

  /**
   * Ends the node's response streams once no exchange will answer on them any more (the agent's
   * drain), waiting up to {@code within} for their calls.
   */
  void finishStreams(Duration within) throws InterruptedException {
    ResponseStream streams = batcher.streams();
    if (streams != null) {
      streams.finish(within);
    }
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

  /** The node answers again after a failure or a drain: responses go on a new stream from now on. */
  private void reconnected() {
    ResponseStream streams = batcher.streams();
    if (streams != null) {
      streams.renew();
    }
  }

  /** Closes the node's connections; exchanges still using them fail. */
  synchronized void close() {
    if (!closed) {
      closed = true;
      ResponseStream streams = batcher.streams();
      if (streams != null) {
        streams.end();
      }
      proxyClient.close();
    }
  }
}
