package dev.drawbridge.proxy.exchange;

import dev.drawbridge.protocol.RequestHead;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client request and its response: the state machine at the heart of the proxy.
 *
 * <pre>
 *   QUEUED ──deliver──▶ DELIVERED ──startResponse──▶ RESPONDING ──complete──▶ COMPLETED
 *     ▲                    │                             │
 *     └─requeue (once)─────┤                             │
 *     │                    │                             │
 *     ├──expire──▶ EXPIRED (503)                         │
 *     │                    ├──expire──▶ EXPIRED (504)    ├──expire (idle)──▶ EXPIRED (abort)
 *     └────────────────────┴──── fail ──▶ FAILED ◀───────┤
 *     └────────────────────┴── clientGone ──▶ CLIENT_GONE ◀┘
 * </pre>
 *
 * Any thread may attempt a transition: the container threads of the client and of the agent's
 * calls, and the reaper. Each transition checks the current state under this object's lock and
 * either moves on or reports that another transition won. Whoever reaches a terminal state runs
 * {@link #finish}, the one place that answers or releases the client, ends attached agent streams
 * and removes the exchange from every registry; it runs outside the lock, exactly once.
 *
 * <p>An upgrade exchange (a WebSocket handshake, {@link #isUpgrade()}) takes the same path:
 * RESPONDING then means the backend switched protocols and bytes flow both ways, and COMPLETED
 * that either side closed cleanly.
 *
 * <p>{@code requeue} is the one way back: only the reaper takes it, when the owning agent was lost
 * before any of its calls for this exchange reached the proxy, and at most once per exchange.
 */
public final class Exchange {

  private static final Logger LOG = Logger.getLogger(Exchange.class.getName());

  private static final EnumSet<ExchangeState> NOT_ENDED =
      EnumSet.of(ExchangeState.QUEUED, ExchangeState.DELIVERED, ExchangeState.RESPONDING);
  private static final EnumSet<ExchangeState> RESPONDING_ONLY = EnumSet.of(ExchangeState.RESPONDING);

  private final String id;
  private final Backend backend;
  private final RequestHead head;
  private final ClientLeg client;
  private final String clientAddress;
  private final long createdNanos;
  /** Its deadlines and what a 503 asks the client to wait, as configured when it arrived. */
  private final Limits limits;
  private final int retryAfterSeconds;
  private final List<ExchangeRelay> relays = new ArrayList<>(2);

  private ExchangeState state = ExchangeState.QUEUED;
  private AgentSession owner;
  private long deliveredNanos;
  private long respondingNanos;
  private long endedNanos;
  private int status;
  private String reason;
  private int requeues;
  private volatile long lastActivityNanos;
  /** When the relays were last told to keep their agent streams open; the reaper's only. */
  private long keptAliveNanos;
  /** False until the reaper first saw the connection open; the reaper's only. */
  private boolean keepingAlive;
  private volatile long bytesFromClient;
  private volatile long bytesToClient;

  Exchange(Backend backend, RequestHead head, ClientLeg client, String clientAddress, long now, Limits limits) {
    this.id = head.id();
    this.limits = limits;
    this.retryAfterSeconds = limits.retryAfterSeconds();
    this.backend = backend;
    this.head = head;
    this.client = client;
    this.clientAddress = clientAddress;
    this.createdNanos = now;
    this.lastActivityNanos = now;
  }

  // ---- transitions -------------------------------------------------------------------------

  /** QUEUED to DELIVERED: the agent process of {@code agent} now owns the exchange. */
  boolean deliver(AgentSession agent, long now) {
    synchronized (this) {
      if (state != ExchangeState.QUEUED) {
        return false;
      }
      state = ExchangeState.DELIVERED;
      owner = agent;
      deliveredNanos = now;
      lastActivityNanos = now;
      return true;
    }
  }

  /**
   * DELIVERED back to QUEUED, for an exchange whose agent was lost before it fetched the request
   * body or started a response (no agent stream ever attached), so no backend can have seen a body
   * from the proxy and the client has seen nothing. Allowed once per exchange; the caller checks
   * that the request may be repeated ({@link Requeue#allows}).
   *
   * @return false when another transition won, an agent stream attached, or it was re-queued before
   */
  boolean requeue(AgentSession lostAgent) {
    synchronized (this) {
      if (state != ExchangeState.DELIVERED
          || lostAgent != owner
          || !relays.isEmpty()
          || requeues > 0) {
        return false;
      }
      state = ExchangeState.QUEUED;
      requeues++;
      owner = null;
      deliveredNanos = 0;
      return true;
    }
  }

  /** True for a protocol-switch handshake: see {@link RequestHead#upgrade()}. */
  public boolean isUpgrade() {
    return head.wantsUpgrade();
  }

  /** How often the exchange went back to the queue (0 or 1). */
  public synchronized int requeues() {
    return requeues;
  }

  /**
   * DELIVERED to RESPONDING: the agent's response head is about to be written to the client.
   *
   * @return false when the exchange already ended (or another response call won)
   */
  public boolean startResponse(int responseStatus) {
    synchronized (this) {
      if (state != ExchangeState.DELIVERED) {
        return false;
      }
      state = ExchangeState.RESPONDING;
      status = responseStatus;
      respondingNanos = backend.nanoTime();
      lastActivityNanos = respondingNanos;
      return true;
    }
  }

  /** RESPONDING to COMPLETED: the whole body reached the client's output. */
  public void complete() {
    end(ExchangeState.COMPLETED, RESPONDING_ONLY, status, null, null, 0);
  }

  /**
   * Ends the exchange with an error: the client gets {@code errorStatus} and {@code message} if
   * nothing was sent yet, or a cut connection otherwise. A 503 says when to retry, whoever reports
   * it (an agent that began shutting down and did not start the request, for one).
   */
  public void fail(int errorStatus, String message) {
    fail(errorStatus, message, null);
  }

  /**
   * Like {@link #fail}, for failures whose details must not reach the client (an agent's own
   * explanation, which names internal addresses; what was wrong with a refused response): the
   * client gets {@code clientMessage}, the access log and the admin page {@code detail}.
   */
  public void fail(int errorStatus, String clientMessage, String detail) {
    end(ExchangeState.FAILED, NOT_ENDED, errorStatus, clientMessage, detail, errorStatus == 503 ? retryAfterSeconds : 0);
  }

  /** Like {@link #fail}, for refusals a client may retry after {@code retryAfterSeconds}. */
  public void refuse(int errorStatus, String message, int retryAfterSeconds) {
    end(ExchangeState.FAILED, NOT_ENDED, errorStatus, message, null, retryAfterSeconds);
  }

  /** Ends the exchange because the deadline of {@code expected} passed. */
  void expire(ExchangeState expected, int errorStatus, String message, int retryAfterSeconds) {
    end(ExchangeState.EXPIRED, EnumSet.of(expected), errorStatus, message, null, retryAfterSeconds);
  }

  /** The client went away: release everything, send nothing. */
  public void clientGone(String why) {
    end(ExchangeState.CLIENT_GONE, NOT_ENDED, 499, why, null, 0);
  }

  /**
   * Tells the relays to keep their streams to the agent open, at most once every {@code
   * intervalNanos}; the reaper calls it on each sweep of an open upgraded connection.
   */
  void keepAlive(long now, long intervalNanos) {
    if (!keepingAlive) {
      keepingAlive = true;
      keptAliveNanos = now;
      return;
    }
    if (now - keptAliveNanos < intervalNanos) {
      return;
    }
    keptAliveNanos = now;
    List<ExchangeRelay> current;
    synchronized (this) {
      if (state.isTerminal()) {
        return;
      }
      current = List.copyOf(relays);
    }
    for (ExchangeRelay relay : current) {
      try {
        relay.keepAlive();
      } catch (RuntimeException e) {
        // The sweep goes on for every other exchange; a relay that cannot run is ending anyway.
        LOG.log(Level.FINE, "exchange " + id() + ": a keepalive could not be scheduled", e);
      }
    }
  }

  /**
   * Attaches an agent-side stream, told when the exchange ends. Returns false, without attaching,
   * when the exchange has ended already.
   */
  public boolean attach(ExchangeRelay relay) {
    synchronized (this) {
      if (state.isTerminal()) {
        return false;
      }
      relays.add(relay);
      return true;
    }
  }

  private void end(
      ExchangeState to, EnumSet<ExchangeState> from, int endStatus, String message, String detail, int retryAfter) {
    ExchangeState previous;
    List<ExchangeRelay> toNotify;
    synchronized (this) {
      if (state.isTerminal() || !from.contains(state)) {
        return;
      }
      previous = state;
      state = to;
      endedNanos = backend.nanoTime();
      if (to != ExchangeState.COMPLETED) {
        status = endStatus;
        reason = detail != null ? detail : message;
      }
      toNotify = List.copyOf(relays);
    }
    finish(previous, to, message, retryAfter, toNotify);
  }

  /** The one place that answers or releases the client and frees the exchange. */
  private void finish(
      ExchangeState previous,
      ExchangeState to,
      String message,
      int retryAfter,
      List<ExchangeRelay> toNotify) {
    try {
      for (ExchangeRelay relay : toNotify) {
        relay.exchangeEnded(to);
      }
    } finally {
      // Free the slot first, so whoever the client tells next finds the queue as it now is.
      try {
        backend.exchangeEnded(this, previous);
      } finally {
        answerClient(to, message, retryAfter);
      }
    }
  }

  private void answerClient(ExchangeState to, String message, int retryAfter) {
    // No switch on the enum: it compiles to a class of its own, loaded the first time this runs, and
    // a stopping Tomcat times held requests out (the client's onTimeout ends up here) possibly after
    // it has closed the WAR's class loader, so a first run then failed with NoClassDefFoundError.
    if (to == ExchangeState.COMPLETED) {
      client.complete();
    } else if (to == ExchangeState.CLIENT_GONE) {
      client.discard();
    } else if (client.isCommitted()) {
      client.abort(message);
    } else {
      client.sendError(status(), message, retryAfter);
    }
  }

  /** Records activity on one of the exchange's streams, postponing the idle deadline. */
  public void touch() {
    lastActivityNanos = backend.nanoTime();
  }

  /** Counts client body bytes passed to the agent. */
  public void addBytesFromClient(long n) {
    bytesFromClient += n;
  }

  /** Counts response body bytes passed to the client. */
  public void addBytesToClient(long n) {
    bytesToClient += n;
  }

  // ---- reading -----------------------------------------------------------------------------

  public String id() {
    return id;
  }

  /** The deadlines fixed when the client request arrived. */
  public Limits limits() {
    return limits;
  }

  public Backend backend() {
    return backend;
  }

  public RequestHead head() {
    return head;
  }

  /** The client's side, for the web layer's relays. */
  public ClientLeg client() {
    return client;
  }

  public String clientAddress() {
    return clientAddress;
  }

  public synchronized ExchangeState state() {
    return state;
  }

  /** The id of the agent that owns the exchange, or null while queued. */
  public synchronized String agentId() {
    return owner == null ? null : owner.agentId();
  }

  /** The agent process that owns the exchange, or null while queued. */
  public synchronized AgentSession owner() {
    return owner;
  }

  synchronized int status() {
    return status;
  }

  synchronized String reason() {
    return reason;
  }

  long createdNanos() {
    return createdNanos;
  }

  synchronized long deliveredNanos() {
    return deliveredNanos;
  }

  synchronized long respondingNanos() {
    return respondingNanos;
  }

  synchronized long endedNanos() {
    return endedNanos;
  }

  long lastActivityNanos() {
    return lastActivityNanos;
  }

  long bytesFromClient() {
    return bytesFromClient;
  }

  long bytesToClient() {
    return bytesToClient;
  }

  @Override
  public String toString() {
    return "exchange " + id;
  }
}
