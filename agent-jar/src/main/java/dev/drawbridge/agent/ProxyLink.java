package dev.drawbridge.agent;

import dev.drawbridge.protocol.Protocol;
import java.time.Duration;
import java.util.Objects;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The agent's view of its connection to one proxy node, shared by that node's pollers. It logs one
 * line per change of state (or of failure reason), not one per retry, so a node that is down for
 * an hour does not flood the log. With several nodes, each line says how many the agent is
 * attached to, so an operator sees at once that the others still serve.
 *
 * <pre>
 *   STARTING --poll ok--> CONNECTED --poll failed--> FAILING --poll ok--> CONNECTED
 *            \--failed--> FAILING       \--401/403/4xx--> REJECTED --poll ok--> CONNECTED
 *   CONNECTED --draining answer--> PROXY_DRAINING --poll ok--> CONNECTED
 * </pre>
 */
final class ProxyLink {

  private static final Logger LOG = Logger.getLogger(ProxyLink.class.getName());

  enum State {
    STARTING,
    CONNECTED,
    FAILING,
    REJECTED,
    PROXY_DRAINING
  }

  /** How many nodes the agent is attached to, for the log lines of one of them. */
  interface Attachments {
    /** Nodes whose link is connected now. */
    int connected();

    /** Nodes the agent knows now. */
    int total();
  }

  private final AgentConfig config;
  private final ProxyNode node;
  private final Attachments attachments;
  private final Runnable reconnected;
  /** Volatile, not guarded: other nodes' links read it while counting, holding their own lock. */
  private volatile State state = State.STARTING;
  private String reason;
  private boolean everConnected;

  /**
   * @param reconnected runs when a poll succeeds again after a failure, a refusal or a drain, before
   *     the work it brought is started: the node may be another instance of the proxy now
   */
  ProxyLink(AgentConfig config, ProxyNode node, Attachments attachments, Runnable reconnected) {
    this.config = config;
    this.node = node;
    this.attachments = attachments;
    this.reconnected = reconnected;
  }

  State state() {
    return state;
  }

  ProxyNode node() {
    return node;
  }

  /** A poll succeeded; {@code proxyVersion} is what the proxy announced (null if nothing). */
  synchronized void connected(String proxyVersion) {
    if (state == State.CONNECTED) {
      return;
    }
    state = State.CONNECTED;
    reason = null;
    if (everConnected) {
      reconnected.run();
    }
    everConnected = true;
    LOG.info("Connected to proxy " + node.describe()
        + (proxyVersion == null ? "" : " (Drawbridge " + proxyVersion + ")")
        + " as agent " + config.agentId() + " for backend " + config.backend() + attached());
  }

  /** A poll failed in a way that may heal by itself (network, 5xx, malformed answer). */
  synchronized void failed(String why, Duration retryIn) {
    if (change(State.FAILING, why)) {
      String prefix = everConnected
          ? "Lost connection to proxy " + node.describe() + ": "
          : "Cannot reach proxy " + node.describe() + ": ";
      LOG.warning(prefix + why + "; retrying in " + Durations.seconds(retryIn) + " s" + attached());
    }
  }

  /** The proxy refused the agent itself: an operator has to fix the token or the flags. */
  synchronized void rejected(ProxyStatusException refusal, Duration retryIn) {
    String sentence;
    String proxyProtocol = refusal.mismatchedProtocol();
    if (proxyProtocol != null) {
      sentence = "The proxy speaks agent protocol " + proxyProtocol + "; this agent speaks "
          + Protocol.VERSION + "; upgrade the agent or the proxy so both speak the same version";
    } else if (refusal.isAuthProblem()) {
      sentence = "The proxy rejected the agent token for backend " + config.backend() + " ("
          + refusal.status() + "); check --token or --token-file";
    } else if (refusal.status() == 409) {
      sentence = "The proxy says a newer agent process took over agent id " + config.agentId()
          + " (409); stop this process, or give each agent its own --agent-id";
    } else if (refusal.status() == 404) {
      sentence = "The proxy does not know backend " + config.backend()
          + " (404); check --backend and the proxy's configuration";
    } else {
      sentence = "The proxy refused the agent's poll (" + refusal.status() + ": "
          + refusal.getMessage() + ")";
    }
    if (change(State.REJECTED, sentence)) {
      LOG.log(Level.SEVERE, sentence + "; retrying every " + Durations.format(retryIn) + attached());
    }
  }

  /** The proxy said it is shutting down, or that a reload removed this agent's backend. */
  synchronized void proxyDraining(Duration retryIn) {
    if (change(State.PROXY_DRAINING, null)) {
      LOG.warning("The proxy is shutting down at " + node.describe() + " or no longer serves backend "
          + config.backend() + "; finishing requests in flight and reconnecting in " + Durations.seconds(retryIn)
          + " s" + attached());
    }
  }

  /** "; attached to 2 of 3 proxy nodes", or nothing when there is only one node. */
  private String attached() {
    int total = attachments.total();
    if (total <= 1) {
      return "";
    }
    return "; attached to " + attachments.connected() + " of " + total + " proxy nodes";
  }

  private boolean change(State next, String why) {
    long now = System.nanoTime();
    // While failing, a new reason is worth a line at most once a minute: pollers failing in turn
    // with alternating reasons (reset, broken pipe ...) must not turn into a retry storm of logs.
    boolean quiet = next == State.FAILING && now - lastLogNanos < QUIET_FAILURE_NANOS;
    if (state == next && (Objects.equals(reason, why) || quiet)) {
      reason = why;
      return false;
    }
    state = next;
    reason = why;
    lastLogNanos = now;
    return true;
  }

  /** Shortest time between two failure lines that differ only in their reason. */
  private static final long QUIET_FAILURE_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(1);

  private long lastLogNanos;
}
