package dev.drawbridge.proxy.exchange;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/** What the proxy knows of one connected agent of one backend. */
public final class AgentSession {

  private final String agentId;
  private final String version;
  private final String remoteAddress;
  private final Instant connectedSince;
  private final Set<Exchange> inFlight = ConcurrentHashMap.newKeySet();
  private final ConcurrentLinkedQueue<String> cancellations = new ConcurrentLinkedQueue<>();
  private volatile boolean backendDown;
  private volatile long lastSeenNanos;
  private volatile Instant lastSeen;
  private volatile boolean leaving;
  private final java.util.concurrent.atomic.AtomicBoolean greeted = new java.util.concurrent.atomic.AtomicBoolean();

  AgentSession(String agentId, String version, String remoteAddress, long now) {
    this.agentId = agentId;
    this.version = version;
    this.remoteAddress = remoteAddress;
    this.connectedSince = Instant.now();
    this.lastSeen = connectedSince;
    this.lastSeenNanos = now;
  }

  void seen(long now) {
    lastSeenNanos = now;
    lastSeen = Instant.now();
  }

  /**
   * True exactly once, for the agent's first poll: it is answered at once, even empty, so the agent
   * learns that its token works without waiting a whole poll interval.
   */
  boolean greet() {
    return greeted.compareAndSet(false, true);
  }

  /** Marks the agent as shutting down: it finishes its work and takes no more. */
  void leave() {
    leaving = true;
  }

  /** True once the agent said it is shutting down. */
  public boolean isLeaving() {
    return leaving;
  }

  void addInFlight(Exchange exchange) {
    inFlight.add(exchange);
  }

  void removeInFlight(Exchange exchange) {
    inFlight.remove(exchange);
  }

  List<Exchange> inFlight() {
    return new ArrayList<>(inFlight);
  }

  void addCancellation(String exchangeId) {
    cancellations.add(exchangeId);
  }

  boolean hasCancellations() {
    return !cancellations.isEmpty();
  }

  /** Takes every pending cancellation, for one poll answer. */
  List<String> drainCancellations() {
    List<String> drained = new ArrayList<>();
    for (String id; (id = cancellations.poll()) != null; ) {
      drained.add(id);
    }
    return drained;
  }

  /** Records the agent's latest health report; true when it differs from the previous one. */
  synchronized boolean reportBackendDown(boolean down) {
    boolean changed = backendDown != down;
    backendDown = down;
    return changed;
  }

  /** True while the agent's health check says it cannot reach the backend; it then gets no work. */
  public boolean reportsBackendDown() {
    return backendDown;
  }

  public String agentId() {
    return agentId;
  }

  public String version() {
    return version;
  }

  public String remoteAddress() {
    return remoteAddress;
  }

  public Instant connectedSince() {
    return connectedSince;
  }

  public Instant lastSeen() {
    return lastSeen;
  }

  long lastSeenNanos() {
    return lastSeenNanos;
  }

  public int inFlightCount() {
    return inFlight.size();
  }
}
