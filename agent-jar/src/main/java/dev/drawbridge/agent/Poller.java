package dev.drawbridge.agent;

import dev.drawbridge.protocol.PollResult;
import dev.drawbridge.protocol.RequestHead;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.hc.client5.http.classic.methods.HttpPost;

/**
 * One long-poll loop toward one proxy node: reserve free slots, ask the node for at most that many
 * exchanges, hand each to the agent, give back the slots not used. Reconnects with backoff after
 * any failure; the agent's other nodes are not affected.
 *
 * <p>The loop is not tied to a thread. When a poll brings work, the loop passes itself to another
 * carrier thread, which polls again at once, and the thread that read the answer runs the last
 * exchange in it itself. The request thus goes on to the backend without waiting for another thread
 * to wake up, and the node still gets its next poll right away, as it expects from an agent that
 * took work with room for more. The other exchanges of the answer go to the agent's workers.
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
  private final Executor carriers;
  private final CountDownLatch ended = new CountDownLatch(1);
  /** The thread running the loop now; null while the loop passes to another. Guarded by this. */
  private Thread carrier;
  private volatile HttpPost agentPoll;
  /** The answers of the poll being read, or null between polls; used by one carrier at a time. */
  private PollStream answers;
  /** Slots reserved for the poll being read, and how many of them its exchanges took. */
  private int reserved;
  private int used;
  private volatile int agentPollMax;
  private volatile boolean healthChanged;
  private volatile boolean stopped;

  /**
   * @param listenOnly true for the poller that asks for no work: it keeps one poll outstanding even
   *     while every slot is busy, so the proxy still sees the agent alive and can pass cancellations
   * @param carriers the threads the loop runs on, and passes itself on to
   */
  Poller(Agent agent, NodeLink node, Capacity capacity, Duration maxBackoff, boolean listenOnly, BackendHealth health,
      Executor carriers) {
    this.listenOnly = listenOnly;
    this.health = health;
    this.agent = agent;
    this.node = node;
    this.proxyClient = node.proxyClient();
    this.capacity = capacity;
    this.proxyLink = node.link();
    this.backoff = new Backoff(maxBackoff);
    this.carriers = carriers;
  }

  @Override
  public void run() {
    synchronized (this) {
      carrier = Thread.currentThread();
    }
    Runnable exchange = null;
    try {
      // A streamed poll open when the loop is finished is read to its end: the node ends it once
      // told that the agent leaves, and what it carries until then must still be passed on.
      while ((!stopped || answers != null) && exchange == null) {
        exchange = pollOnce();
        if (exchange != null && !passOn()) {
          // The agent is stopping: this thread runs the exchange, then goes on with the loop.
          exchange.run();
          exchange = null;
        }
      }
    } catch (InterruptedException e) {
      // stop() interrupts a poller that waits for a slot or a retry.
    } catch (Error e) {
      agent.fatal(e);
    } finally {
      if (exchange == null) {
        synchronized (this) {
          carrier = null;
        }
        ended.countDown();
      }
    }
    if (exchange != null) {
      exchange.run();
    }
  }

  /**
   * Passes the loop to another carrier thread; false when none can take it. An interrupt meant for
   * the loop that reached this thread is cleared: {@link #stop} and {@link #finish} set their flag
   * before they interrupt, and the next carrier reads it.
   */
  private boolean passOn() {
    synchronized (this) {
      carrier = null;
      Thread.interrupted();
    }
    try {
      carriers.execute(this);
      return true;
    } catch (RejectedExecutionException e) {
      synchronized (this) {
        carrier = Thread.currentThread();
      }
      return false;
    }
  }

  /**
   * Reads the next answer of the open poll, or runs a new poll, and hands out what it brought;
   * returns the exchange for this thread to run, or null.
   */
  private Runnable pollOnce() throws InterruptedException {
    if (answers == null) {
      int reserved = listenOnly ? 0 : capacity.reserve(node, AgentConfig.MAX_POLL_BATCH);
      // Read after the reservation, which may have waited long: the poll says what is true now.
      boolean backendUp = health.isUp();
      if (!backendUp) {
        capacity.settle(node, reserved, 0);
        reserved = 0;
      }
      try {
        answers = fetch(reserved, backendUp);
      } catch (IOException | RuntimeException e) {
        capacity.settle(node, reserved, 0);
        failed(e);
        return null;
      }
      if (answers == null) {
        capacity.settle(node, reserved, 0);
        return null;
      }
      this.reserved = reserved;
      this.used = 0;
    }
    PollResult result;
    try {
      result = answers.next();
    } catch (IOException | RuntimeException e) {
      endPoll();
      failed(e);
      return null;
    }
    if (result == null) {
      endPoll();
      return null;
    }
    if (answers.streamed()) {
      // Only the listening poll's stream opens with an empty answer to time the others against.
      Boolean passesOn = listenOnly ? answers.passesOn(result, System.nanoTime()) : null;
      if (passesOn != null) {
        node.streamVerdict(passesOn);
      }
      if (!result.exchanges().isEmpty()) {
        node.tookStreamedWork(answers.callWithinMillis());
      }
    }
    // A draining node's answers are not a reconnection: its backoff keeps growing, its state stays.
    if (!result.draining()) {
      proxyLink.connected(proxyClient.proxyVersion());
      backoff.reset();
    }
    // An answer from a draining node is followed by a wait, so its work all goes to workers.
    boolean mayRunOne = !listenOnly && !result.draining();
    Runnable runHere = null;
    List<RequestHead> heads = result.exchanges();
    int last = used + heads.size();
    try {
      for (RequestHead clientRequest : heads) {
        // Exchanges beyond what was asked still get an answer, but hold no slot of their own.
        boolean holdsSlot = used < reserved;
        used++;
        if (mayRunOne && used == last && !clientRequest.wantsUpgrade()) {
          runHere = agent.prepare(clientRequest, holdsSlot, node);
        } else {
          agent.dispatch(clientRequest, holdsSlot, node);
        }
      }
      for (String id : result.cancelled()) {
        agent.cancel(id, node);
      }
    } finally {
      if (answers.ended() || result.draining()) {
        endPoll();
      }
    }
    if (result.draining() && !stopped) {
      Duration wait = backoff.next();
      proxyLink.proxyDraining(wait);
      agent.awaitStop(wait);
    }
    return runHere;
  }

  /** The poll's answers ended: its connection goes back, and the slots it did not use too. */
  private void endPoll() {
    try {
      answers.close();
    } catch (IOException e) {
      LOG.log(Level.FINE, "closing a poll failed", e);
    }
    answers = null;
    agentPoll = null;
    capacity.settle(node, reserved, used);
  }

  private void failed(Exception e) throws InterruptedException {
    // HttpClient reports a cancelled call with unchecked exceptions too; after stop() all are expected.
    if (healthChanged) {
      healthChanged = false;
      return;
    }
    if (!stopped) {
      retryAfter(e);
    }
  }

  /** Runs a poll; null when stopped before it was sent. The poll stays published while its answers are read. */
  private PollStream fetch(int max, boolean backendUp) throws IOException {
    HttpPost poll = proxyClient.pollRequest(max, backendUp, node.streamsPolls(listenOnly));
    // Published before the stopped check, so stop() either sees this poll or this poll sees stopped.
    agentPollMax = max;
    agentPoll = poll;
    boolean open = false;
    try {
      PollStream stream = stopped ? null : proxyClient.poll(poll);
      open = stream != null;
      return stream;
    } finally {
      if (!open) {
        agentPoll = null;
      }
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

  /** Interrupts the loop's thread, to end a wait for a slot or a retry; only after a stop flag is set. */
  synchronized void interruptWait() {
    if (carrier != null) {
      carrier.interrupt();
    }
  }

  /** Waits up to {@code nanos} for the loop to end; exchanges it runs may go on. */
  void awaitEnd(long nanos) throws InterruptedException {
    ended.await(nanos, TimeUnit.NANOSECONDS);
  }

  /** True once the loop has ended. */
  boolean hasEnded() {
    return ended.getCount() == 0;
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
