package dev.drawbridge.proxy.exchange;

import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.proxy.config.BackendSettings;
import dev.drawbridge.proxy.config.ProxySettings;
import dev.drawbridge.proxy.exchange.ParkedPolls.Parked;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.logging.Logger;

/**
 * One published backend: its queue of client requests, the agent polls waiting for them, and its
 * agents. The queue and the parked polls share this object's lock, so a request and a poll can never
 * both wait for each other; answering a poll and ending exchanges happen outside it.
 */
public final class Backend {

  private static final Logger LOG = Logger.getLogger(Backend.class.getName());

  /** What a client hears when every agent of its backend reports the backend down. */
  static final String UNREACHABLE = "The backend's agents report it unreachable; retry later.";

  /** Replaced whole by a reload ({@link #update}); each new exchange reads it once. */
  private volatile BackendSettings settings;
  private final Tunnel tunnel;
  private final LinkedHashSet<Exchange> queued = new LinkedHashSet<>();
  private final ParkedPolls parked = new ParkedPolls();
  private final AgentRoster agents;
  private final AgentDepartures departures;
  private final UpgradeSlots upgradeSlots;
  private boolean draining;
  /** What a refused client hears while draining: the proxy stops, or a reload removed the backend. */
  private String drainMessage = SHUTTING_DOWN;

  /** What clients hear while the proxy shuts down. */
  static final String SHUTTING_DOWN = "The proxy is shutting down; retry shortly.";

  /** What clients hear once a reload removed their backend. */
  static final String REMOVED = "This backend was removed from the proxy's configuration; retry later.";

  Backend(BackendSettings settings, Tunnel tunnel) {
    this.settings = settings;
    this.tunnel = tunnel;
    this.agents = new AgentRoster(settings.id(), tunnel::nanoTime);
    this.departures = new AgentDepartures(this, agents);
    this.upgradeSlots = new UpgradeSlots(() -> this.settings.maxUpgraded());
  }

  /** Creates and registers an exchange for a client request; call {@link #submit} next. */
  public Exchange open(RequestHead head, ClientLeg client, String clientAddress) {
    Exchange exchange =
        new Exchange(this, head, client, clientAddress, tunnel.nanoTime(), Limits.of(settings, tunnel.settings()));
    tunnel.register(exchange);
    return exchange;
  }

  /** Hands the exchange to a waiting poll, or queues it, or refuses it when the queue is full. */
  public void submit(Exchange exchange) {
    Parked target = null;
    String refusal = null;
    synchronized (this) {
      if (draining) {
        refusal = drainMessage;
      } else if (agents.allReportBackendDown()) {
        refusal = UNREACHABLE;
      } else {
        target = parked.takeFor(exchange);
        if (target == null) {
          if (queued.size() >= settings.maxQueued()) {
            refusal = "The queue for backend '" + id() + "' is full; retry shortly.";
          } else if (exchange.state() == ExchangeState.QUEUED) {
            queued.add(exchange);
          }
        } else if (!deliverTo(exchange, target.session())) {
          parked.park(target);
          target = null;
        }
      }
    }
    if (refusal != null) {
      exchange.refuse(503, refusal, tunnel.settings().retryAfterSeconds());
    } else if (target != null) {
      answer(target, List.of(exchange));
    }
  }

  /**
   * Answers the poll at once when there is work or news for its agent, else parks it. A poll of a
   * session that left the roster (lost, or replaced by a newer process) is answered at once with
   * nothing: whatever it took could never be declared lost again. So is a poll of an agent that
   * said it is shutting down: it may no longer read what it gets.
   */
  public void poll(PendingPoll poll, AgentSession session) {
    take(poll, session, true);
  }

  /**
   * A streamed poll's answer was written and its stream goes on: like {@link #poll}, but the agent
   * made no call, so it is not seen alive by this, and is not greeted again.
   */
  public void pollAgain(PendingPoll poll, AgentSession session) {
    take(poll, session, false);
  }

  private void take(PendingPoll poll, AgentSession session, boolean call) {
    List<Exchange> taken = new ArrayList<>();
    synchronized (this) {
      if (call) {
        session.seen(tunnel.nanoTime());
      }
      if (session.takesWork()) {
        taken.addAll(takeQueued(poll, session));
      }
      if (taken.isEmpty() && !session.hasCancellations() && !draining && !session.takesNoWork()
          && !(call && session.greet())) {
        parked.park(poll, session);
        return;
      }
    }
    answer(new Parked(poll, session), taken);
  }

  /** Forgets a parked poll whose agent connection ended before it was answered. */
  public synchronized void forget(PendingPoll poll) {
    parked.remove(poll);
  }

  /**
   * Records a call from an agent process with the token of digest {@code tokenSha256} and returns
   * its session, creating it on first contact. A new instance under a known agent id replaces the
   * earlier process at once: the reaper ends it as lost on its next sweep, and meanwhile it gets no
   * work. Returns null when {@code instance} is a process that was itself replaced, whose calls
   * must be refused.
   *
   * @param instance the process's instance, "" when the agent sent none
   */
  public AgentSession session(
      String agentId, String instance, String version, String remoteAddress, byte[] tokenSha256) {
    return agents.arrive(agentId, instance, version, remoteAddress, tokenSha256);
  }

  /** Like {@link #session(String, String, String, String, byte[])} without a tracked token (tests). */
  public AgentSession session(String agentId, String instance, String version, String remoteAddress) {
    return session(agentId, instance, version, remoteAddress, null);
  }

  /** Like {@link #session(String, String, String, String, byte[])} for an agent that sends no instance. */
  public AgentSession session(String agentId, String version, String remoteAddress, byte[] tokenSha256) {
    return session(agentId, "", version, remoteAddress, tokenSha256);
  }

  /** Like {@link #session(String, String, String, String)} for an agent that sends no instance (tests). */
  public AgentSession session(String agentId, String version, String remoteAddress) {
    return session(agentId, "", version, remoteAddress, null);
  }

  private boolean deliverTo(Exchange exchange, AgentSession session) {
    if (!exchange.deliver(session, tunnel.nanoTime())) {
      return false;
    }
    session.addInFlight(exchange);
    return true;
  }

  /**
   * Records an agent's health report from its poll. Once no agent can reach the backend, queued
   * requests get 503 at once rather than waiting for their queue deadline in a dead end.
   */
  public void reportHealth(AgentSession session, boolean backendUp) {
    if (session.reportBackendDown(!backendUp)) {
      LOG.info(() -> "Agent " + session.agentId() + " reports backend '" + id() + "' " + (backendUp ? "reachable again" : "unreachable"));
      failQueueIfUnreachable();
    }
  }

  /** Refuses the whole queue once every connected agent reports the backend down. */
  void failQueueIfUnreachable() {
    List<Exchange> refused;
    synchronized (this) {
      if (!agents.allReportBackendDown()) {
        return;
      }
      refused = new ArrayList<>(queued);
      queued.clear();
    }
    for (Exchange exchange : refused) {
      exchange.refuse(503, UNREACHABLE, tunnel.settings().retryAfterSeconds());
    }
  }

  /** The places this backend has for upgraded connections. */
  public UpgradeSlots upgradeSlots() {
    return upgradeSlots;
  }

  /**
   * False when agents are connected and none of them relays upgraded connections (agents older
   * than the feature): a handshake would only wait in the queue for nothing.
   */
  public boolean canRelayUpgrades() {
    Collection<AgentSession> connected = agents.snapshot();
    if (connected.isEmpty()) {
      return true;
    }
    for (AgentSession session : connected) {
      if (session.relaysUpgrades()) {
        return true;
      }
    }
    return false;
  }

  private void answer(Parked target, List<Exchange> exchanges) {
    answer(target.poll(), target.session(), exchanges);
  }

  private void answer(PendingPoll poll, AgentSession session, List<Exchange> exchanges) {
    session.answered(tunnel.nanoTime(), poll.expectsCallAfter(exchanges.size()), tunnel.settings().agentGrace());
    List<String> cancelled = session.drainCancellations();
    poll.answer(exchanges, cancelled, isDraining());
  }

  synchronized boolean isDraining() {
    return draining;
  }

  /** Called by {@link Exchange} once it ended: forget it everywhere, tell its agent. */
  void exchangeEnded(Exchange exchange, ExchangeState previous) {
    if (exchange.isUpgrade()) {
      upgradeSlots.release();
    }
    if (previous == ExchangeState.QUEUED) {
      synchronized (this) {
        queued.remove(exchange);
      }
    }
    AgentSession session = exchange.owner();
    if (session != null) {
      session.removeInFlight(exchange);
      if (exchange.state() != ExchangeState.COMPLETED && previous != ExchangeState.QUEUED) {
        cancel(session, exchange.id());
      }
    }
    tunnel.unregister(exchange);
  }

  /** Tells the agent to stop working on an exchange, waking one of its parked polls to say so. */
  private void cancel(AgentSession session, String exchangeId) {
    session.addCancellation(exchangeId);
    answerEmpty(unpark(session, false), session);
  }

  /** Reaper duty: answers polls whose wait ended and forgets agents that stopped polling. */
  void sweep(long now) {
    List<Parked> due;
    synchronized (this) {
      due = parked.takeDue(now);
    }
    for (Parked poll : due) {
      answer(poll, List.of());
    }
    departures.sweep(now);
  }

  /**
   * The agent is shutting down: its held polls are answered now (so no request is handed to a
   * connection nobody reads any more) and it gets no more work; its exchanges in flight go on.
   */
  public void agentLeaving(AgentSession session) {
    departures.leaving(session);
  }

  /** Takes the parked polls of {@code session} out of the parked set: the first one, or all. */
  synchronized List<PendingPoll> unpark(AgentSession session, boolean all) {
    return parked.takeOf(session, all);
  }

  synchronized boolean hasParkedPoll(AgentSession session) {
    return parked.holdsPollOf(session);
  }

  /**
   * Ends the session under the lock that handing out work takes, so that no poll of it parks or
   * takes work any more, and returns its parked polls for {@link #answerEmpty}.
   */
  synchronized List<PendingPoll> endSession(AgentSession session) {
    session.end();
    return unpark(session, true);
  }

  /** Answers {@code polls} of {@code session} with no work: whatever news the session has, and the drain. */
  void answerEmpty(List<PendingPoll> polls, AgentSession session) {
    for (PendingPoll poll : polls) {
      answer(poll, session, List.of());
    }
  }

  /**
   * A poll's answer carrying {@code exchanges} could not be written: the poll's connection was dead
   * (a cut path, a restarted balancer), so its agent got none of them whole. Those that may be
   * repeated go back to the front of the queue, under the same rule as for a lost agent; the rest
   * fail with 502.
   */
  public void undelivered(List<Exchange> exchanges, AgentSession session) {
    List<Exchange> requeued = new ArrayList<>();
    for (Exchange exchange : exchanges) {
      if (Requeue.afterLoss(tunnel.settings(), exchange.head()) && exchange.requeue(session)) {
        session.removeInFlight(exchange);
        requeued.add(exchange);
      } else {
        exchange.fail(502, "The connection to the agent broke while the request was handed over.");
      }
    }
    if (!requeued.isEmpty()) {
      requeueFirst(requeued);
    }
  }

  /**
   * Puts exchanges taken back from a lost agent at the front of the queue, since they waited
   * longest, then hands queued work to parked polls that want it.
   */
  void requeueFirst(List<Exchange> requeued) {
    List<Parked> toAnswer = new ArrayList<>();
    List<List<Exchange>> batches = new ArrayList<>();
    boolean accepted;
    String refusal;
    synchronized (this) {
      accepted = !draining;
      refusal = drainMessage;
      if (accepted) {
        // LinkedHashSet cannot insert at its head on Java 17; re-queueing is rare, so rebuild it.
        LinkedHashSet<Exchange> rest = new LinkedHashSet<>(queued);
        queued.clear();
        queued.addAll(requeued);
        queued.addAll(rest);
        Parked poll;
        while (!queued.isEmpty() && (poll = parked.takeFor(null)) != null) {
          toAnswer.add(poll);
          batches.add(takeQueued(poll.poll(), poll.session()));
        }
      }
    }
    for (int i = 0; i < toAnswer.size(); i++) {
      answer(toAnswer.get(i), batches.get(i));
    }
    if (accepted) {
      return;
    }
    // The proxy is draining: nobody will take these any more.
    for (Exchange exchange : requeued) {
      exchange.refuse(503, refusal, tunnel.settings().retryAfterSeconds());
    }
  }

  /** Moves up to the poll's max queued exchanges to its agent; call under the lock. */
  private List<Exchange> takeQueued(PendingPoll poll, AgentSession session) {
    List<Exchange> taken = new ArrayList<>();
    Iterator<Exchange> it = queued.iterator();
    while (taken.size() < poll.max() && it.hasNext()) {
      Exchange exchange = it.next();
      if (!poll.canTake(exchange)) {
        continue;
      }
      it.remove();
      if (deliverTo(exchange, session)) {
        taken.add(exchange);
      }
    }
    return taken;
  }

  /**
   * Refuses an exchange because the web application stops: the answer the drain gives, for
   * containers that end held requests themselves before {@code contextDestroyed} (Tomcat times
   * them out).
   */
  public void refuseShuttingDown(Exchange exchange) {
    exchange.refuse(503, SHUTTING_DOWN, tunnel.settings().retryAfterSeconds());
  }

  /** Ends an exchange of a backend a reload removed, once its drain grace is over. */
  void refuseRemoved(Exchange exchange) {
    exchange.refuse(503, REMOVED, tunnel.settings().retryAfterSeconds());
  }

  /**
   * Takes settings from a reloaded configuration. Requests already queued or in flight keep the
   * limits they arrived with; new ones get these.
   */
  void update(BackendSettings next) {
    settings = next;
  }

  /**
   * Ends at once the held polls of agents whose token this backend no longer lists, so that they
   * call again now and hear 401 (or 403), rather than keep a poll that could still be handed work.
   */
  void revokeTokensNotIn(List<byte[]> digests) {
    departures.revokeTokensNotIn(digests);
  }

  /** Stops taking work: refuses the queue, tells parked agents the proxy is draining. */
  void drain() {
    drain(SHUTTING_DOWN, true);
  }

  /** Like {@link #drain()}, telling refused clients {@code message}. */
  void drain(String message) {
    drain(message, true);
  }

  /**
   * Stops taking work: new client requests get 503 with {@code message} and every poll answer says
   * the proxy drains. With {@code refuseQueued} (the web application stops, so no agent call will
   * reach it any more, or a reload removed the backend) queued requests get it too; without (an
   * operator's drain, the node keeps running) they go to the agents' next polls, and parked polls
   * take what is queued now.
   */
  void drain(String message, boolean refuseQueued) {
    List<Exchange> refused = List.of();
    List<Parked> polls;
    List<List<Exchange>> work = new ArrayList<>();
    synchronized (this) {
      draining = true;
      drainMessage = message;
      if (refuseQueued) {
        refused = new ArrayList<>(queued);
        queued.clear();
      }
      polls = parked.takeAll();
      for (Parked poll : polls) {
        work.add(poll.session().takesWork() ? takeQueued(poll.poll(), poll.session()) : List.of());
      }
    }
    for (int i = 0; i < polls.size(); i++) {
      answer(polls.get(i), work.get(i));
    }
    for (Exchange exchange : refused) {
      exchange.refuse(503, message, tunnel.settings().retryAfterSeconds());
    }
  }

  /** The proxy-wide settings in force now. */
  ProxySettings proxySettings() {
    return tunnel.settings();
  }

  public String id() {
    return settings.id();
  }

  /** Now on the tunnel's clock. */
  long nanoTime() {
    return tunnel.nanoTime();
  }

  public BackendSettings settings() {
    return settings;
  }

  public synchronized int queueDepth() {
    return queued.size();
  }

  /**
   * Age in milliseconds of the oldest queued request at {@code nowNanos}, 0 when the queue is
   * empty. The queue keeps arrival order, so the oldest is the first.
   */
  public synchronized long oldestQueuedMillis(long nowNanos) {
    Iterator<Exchange> first = queued.iterator();
    return first.hasNext() ? Math.max(0, (nowNanos - first.next().createdNanos()) / 1_000_000) : 0;
  }

  public synchronized int parkedPolls() {
    return parked.size();
  }

  /** True while at least one agent is connected. */
  boolean hasAgents() {
    return !agents.isEmpty();
  }

  public Collection<AgentSession> agents() {
    return agents.snapshot();
  }
}
