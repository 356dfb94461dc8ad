package dev.drawbridge.agent;

import dev.drawbridge.protocol.Protocol;
import java.time.Duration;
import java.util.Objects;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The agent's view of its connection to the proxy, shared by all pollers. It logs one line per
 * change of state (or of failure reason), not one per retry, so a proxy that is down for an hour
 * does not flood the log.
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

  private final AgentConfig config;
  private State state = State.STARTING;
  private String reason;
  private boolean everConnected;

  ProxyLink(AgentConfig config) {
    this.config = config;
  }

  synchronized State state() {
    return state;
  }

  /** A poll succeeded; {@code proxyVersion} is what the proxy announced (null if nothing). */
  synchronized void connected(String proxyVersion) {
    if (state == State.CONNECTED) {
      return;
    }
    state = State.CONNECTED;
    reason = null;
    everConnected = true;
    LOG.info("Connected to proxy " + config.proxy()
        + (proxyVersion == null ? "" : " (Drawbridge " + proxyVersion + ")")
        + " as agent " + config.agentId() + " for backend " + config.backend());
  }

  /** A poll failed in a way that may heal by itself (network, 5xx, malformed answer). */
  synchronized void failed(String why, Duration retryIn) {
    if (change(State.FAILING, why)) {
      String prefix = everConnected
          ? "Lost connection to proxy: "
          : "Cannot reach proxy " + config.proxy() + ": ";
      LOG.warning(prefix + why + "; retrying in " + Durations.seconds(retryIn) + " s");
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
    } else if (refusal.status() == 404) {
      sentence = "The proxy does not know backend " + config.backend()
          + " (404); check --backend and the proxy's configuration";
    } else {
      sentence = "The proxy refused the agent's poll (" + refusal.status() + ": "
          + refusal.getMessage() + ")";
    }
    if (change(State.REJECTED, sentence)) {
      LOG.log(Level.SEVERE, sentence + "; retrying every " + Durations.format(retryIn));
    }
  }

  /** The proxy said it is shutting down, or that a reload removed this agent's backend. */
  synchronized void proxyDraining(Duration retryIn) {
    if (change(State.PROXY_DRAINING, null)) {
      LOG.warning("The proxy is shutting down or no longer serves backend " + config.backend()
          + "; finishing requests in flight and reconnecting in " + Durations.seconds(retryIn) + " s");
    }
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
