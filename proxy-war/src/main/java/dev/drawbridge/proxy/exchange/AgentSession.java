package dev.drawbridge.proxy.exchange;

import dev.drawbridge.protocol.AgentNodes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * What the proxy knows of one connected agent process of one backend: its agent id (a name) and,
 * for agents that send one, the instance its process drew at start.
 */
public final class AgentSession {

  /** Most earlier instances of the same agent id a session remembers, to refuse their late calls. */
  private static final int RETIRED_KEPT = 8;

  private final String agentId;
  private final String instance;
  private final List<String> retired;
  private final String version;
  private final String remoteAddress;
  private final Instant connectedSince;
  private final Set<Exchange> inFlight = ConcurrentHashMap.newKeySet();
  private final ConcurrentLinkedQueue<String> cancellations = new ConcurrentLinkedQueue<>();
  private volatile boolean backendDown;
  private volatile long lastSeenNanos;
  private volatile Instant lastSeen;
  private volatile boolean leaving;
  private volatile List<AgentNodes.Entry> reportedNodes = List.of();
  /** The header the nodes were read from, so an unchanged report is not parsed again on every poll. */
  private volatile String reportedNodesHeader;
  /** Digest of the token of the agent's latest call, to find its sessions when that token is revoked. */
  private volatile byte[] tokenSha256;
  private volatile boolean relaysUpgrades;
  private boolean callDue;
  private long callDueNanos;
  private final java.util.concurrent.atomic.AtomicBoolean greeted = new java.util.concurrent.atomic.AtomicBoolean();
  /** Set when a newer process of the same agent id arrived; the reaper then ends this one as lost. */
  private volatile boolean replaced;
  /** Set once the session left the roster (lost or gone); its polls get no more work. */
  private volatile boolean ended;

  /**
   * @param instance the agent process's instance, "" for agents that send none
   * @param retired instances of the same agent id this session replaced, newest last
   */
  AgentSession(String agentId, String instance, List<String> retired, String version, String remoteAddress, long now) {
    this.agentId = agentId;
    this.instance = instance;
    this.retired = List.copyOf(retired.subList(Math.max(0, retired.size() - RETIRED_KEPT), retired.size()));
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

  /** A call from the agent arrived: it is alive, and it read what it was sent before the call. */
  synchronized void called(long now) {
    seen(now);
    callDue = false;
  }

  /**
   * One of the agent's polls was answered; when {@code callExpected} ({@link
   * PendingPoll#expectsCallAfter}), the proxy expects a call within {@code grace}, and a later
   * handover does not postpone an earlier expectation. An answer is not a sign of life: only calls
   * are, so a dead agent's held polls, answered when their wait ends, do not keep it connected.
   */
  synchronized void answered(long now, boolean callExpected, Duration grace) {
    if (callExpected && !callDue) {
      callDue = true;
      callDueNanos = now + grace.toNanos();
    }
  }

  /**
   * True when the agent took work and made no call by the time expected: it is gone, however many
   * of its polls the container still holds (a dead peer's connection goes unnoticed until written).
   */
  synchronized boolean missedExpectedCall(long now) {
    return callDue && now - callDueNanos > 0;
  }

  /**
   * True exactly once, for the agent's first poll: it is answered at once, even empty, so the agent
   * learns that its token works without waiting a whole poll interval.
   */
  boolean greet() {
    return greeted.compareAndSet(false, true);
  }

  /** Records whether the agent's last poll declared that it relays upgraded connections. */
  public void relaysUpgrades(boolean declared) {
    relaysUpgrades = declared;
  }

  /** True when the agent's last poll declared that it relays upgraded connections. */
  public boolean relaysUpgrades() {
    return relaysUpgrades;
  }

  /** Marks the agent as shutting down: it finishes its work and takes no more. */
  void leave() {
    leaving = true;
  }

  /** Marks the session as replaced by a newer process of the same agent id. */
  void replace() {
    replaced = true;
  }

  /** True once a newer process of the same agent id arrived: this one is treated as lost. */
  boolean isReplaced() {
    return replaced;
  }

  /** Marks the session as out of the roster; call under the backend's lock. */
  void end() {
    ended = true;
  }

  /**
   * True once the session left the roster, is about to as replaced, or said it is shutting down:
   * it must get no work, and its polls are answered at once.
   */
  boolean takesNoWork() {
    return ended || replaced || leaving;
  }

  /** True when the session may be handed work: it is in the roster and can reach its backend. */
  boolean takesWork() {
    return !takesNoWork() && !backendDown;
  }

  /** This session's instance and those it replaced, for the session that replaces it. */
  List<String> retiredWithThis() {
    List<String> all = new ArrayList<>(retired);
    all.add(instance);
    return all;
  }

  /** True when {@code otherInstance} is a process of this agent id that this session replaced. */
  boolean retired(String otherInstance) {
    return retired.contains(otherInstance);
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

  /**
   * Records the proxy nodes the agent says it is attached to ({@code Drawbridge-Agent-Nodes}); an
   * agent that sends none keeps an empty list.
   */
  public void reportNodes(String header) {
    if (header != null && !header.equals(reportedNodesHeader)) {
      reportedNodes = List.copyOf(AgentNodes.parse(header));
      reportedNodesHeader = header;
    }
  }

  /** The proxy nodes the agent last reported, with its link state to each; empty when it reports none. */
  public List<AgentNodes.Entry> reportedNodes() {
    return reportedNodes;
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

  /** The agent process's instance, "" when the agent sent none. */
  public String instance() {
    return instance;
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

  void usesToken(byte[] digest) {
    if (digest != null) {
      tokenSha256 = digest;
    }
  }

  /** The SHA-256 of the token the agent last called with, or null before its first call. */
  byte[] tokenSha256() {
    return tokenSha256;
  }

  /**
   * The first 12 hexadecimal digits of that digest: enough for an operator rotating tokens to see
   * which agents moved to the new one, too little to be of use to anyone else.
   */
  public String tokenFingerprint() {
    byte[] digest = tokenSha256;
    return digest == null ? null : java.util.HexFormat.of().formatHex(digest, 0, 6);
  }

  public int inFlightCount() {
    return inFlight.size();
  }
}
