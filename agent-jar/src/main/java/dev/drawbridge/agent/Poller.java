package dev.drawbridge.agent;

import dev.drawbridge.protocol.PollResult;
import dev.drawbridge.protocol.RequestHead;
import java.io.IOException;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.hc.client5.http.classic.methods.HttpPost;

/**
 * One long-poll loop: reserve free slots, ask the proxy for at most that many exchanges, hand each
 * to the agent, give back the slots not used. Reconnects with backoff after any failure.
 */
final class Poller implements Runnable {

  private static final Logger LOG = Logger.getLogger(Poller.class.getName());

  private final Agent agent;
  private final ProxyClient proxyClient;
  private final Capacity capacity;
  private final ProxyLink proxyLink;
  private final Backoff backoff;
  private final boolean listenOnly;
  private volatile HttpPost agentPoll;
  private volatile boolean stopped;

  /**
   * @param listenOnly true for the poller that asks for no work: it keeps one poll outstanding even
   *     while every slot is busy, so the proxy still sees the agent alive and can pass cancellations
   */
  Poller(
      Agent agent,
      ProxyClient proxyClient,
      Capacity capacity,
      ProxyLink proxyLink,
      Duration maxBackoff,
      boolean listenOnly) {
    this.listenOnly = listenOnly;
    this.agent = agent;
    this.proxyClient = proxyClient;
    this.capacity = capacity;
    this.proxyLink = proxyLink;
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
    int reserved = listenOnly ? 0 : capacity.reserve(AgentConfig.MAX_POLL_BATCH);
    PollResult result;
    try {
      result = fetch(reserved);
    } catch (IOException | RuntimeException e) {
      // HttpClient reports a cancelled call with unchecked exceptions too; after stop() all are expected.
      capacity.release(reserved);
      if (!stopped) {
        retryAfter(e);
      }
      return;
    }
    if (result == null) {
      capacity.release(reserved);
      return;
    }
    proxyLink.connected(proxyClient.proxyVersion());
    backoff.reset();
    int used = 0;
    try {
      for (RequestHead clientRequest : result.exchanges()) {
        // Exchanges beyond what was asked still get an answer, but hold no slot of their own.
        agent.dispatch(clientRequest, used < reserved);
        used++;
      }
      for (String id : result.cancelled()) {
        agent.cancel(id);
      }
    } finally {
      capacity.release(reserved - Math.min(used, reserved));
    }
    if (result.draining() && !stopped) {
      Duration wait = backoff.next();
      proxyLink.proxyDraining(wait);
      agent.awaitStop(wait);
    }
  }

  /** Runs one poll; null when stopped before it was sent. */
  private PollResult fetch(int max) throws IOException {
    HttpPost poll = proxyClient.pollRequest(max);
    // Published before the stopped check, so stop() either sees this poll or this poll sees stopped.
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
      proxyLink.failed(Reasons.describe(failure), wait);
      LOG.log(Level.FINE, "poll failed", failure);
    }
    agent.awaitStop(wait);
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
