package dev.drawbridge.proxy.exchange;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * The agent processes connected to one backend, and what they report about it. A session is keyed
 * by agent id and instance: the first call of a new instance under a known agent id replaces the
 * sessions of earlier instances of that id (unless they are shutting down gracefully, and so may
 * still finish their work), and late calls of a replaced instance are refused, so two processes
 * given the same {@code --agent-id} by mistake cannot keep ending each other.
 */
final class AgentRoster {

  private static final Logger LOG = Logger.getLogger(AgentRoster.class.getName());

  private final String backendId;
  private final LongSupplier nanoClock;
  private final ConcurrentHashMap<String, AgentSession> agents = new ConcurrentHashMap<>();

  AgentRoster(String backendId, LongSupplier nanoClock) {
    this.backendId = backendId;
    this.nanoClock = nanoClock;
  }

  /**
   * Records a call from an agent process, made with the token of digest {@code tokenSha256}, and
   * returns its session, creating it on first contact (and marking the sessions it replaces, which
   * the caller ends as lost). Null when this instance was itself replaced by a newer process of its
   * agent id.
   *
   * @param instance the process's instance, "" when the agent sent none
   */
  AgentSession arrive(String agentId, String instance, String version, String remoteAddress, byte[] tokenSha256) {
    long now = nanoClock.getAsLong();
    String key = key(agentId, instance);
    AgentSession session = agents.get(key);
    if (session == null) {
      // Arrivals are rare (a process's first call), so one lock keeps replacing simple.
      synchronized (this) {
        session = agents.get(key);
        if (session == null) {
          session = firstCall(agentId, instance, version, remoteAddress, now);
          if (session == null) {
            return null;
          }
        }
      }
    }
    if (session.isReplaced()) {
      // Still listed until the reaper ends it, but a newer process has its agent id.
      return null;
    }
    session.called(now);
    session.usesToken(tokenSha256);
    return session;
  }

  private AgentSession firstCall(String agentId, String instance, String version, String remoteAddress, long now) {
    List<AgentSession> sameId = new ArrayList<>();
    for (AgentSession other : agents.values()) {
      if (other.agentId().equals(agentId)) {
        if (other.retired(instance)) {
          return null;
        }
        sameId.add(other);
      }
    }
    List<String> retired = new ArrayList<>();
    List<AgentSession> replaced = new ArrayList<>();
    // An agent without an instance cannot be told apart from its predecessor: it replaces no one.
    if (!instance.isEmpty()) {
      for (AgentSession other : sameId) {
        retired.addAll(other.retiredWithThis());
        if (!other.isLeaving()) {
          other.replace();
          replaced.add(other);
        }
      }
    }
    AgentSession session = new AgentSession(agentId, instance, retired, version, remoteAddress, now);
    agents.put(key(agentId, instance), session);
    if (replaced.isEmpty()) {
      LOG.info(() -> "Agent " + describe(session) + " " + version + " from " + remoteAddress
          + " connected to backend '" + backendId + "'");
    } else {
      LOG.info(() -> "Agent " + describe(session) + " " + version + " from " + remoteAddress
          + " connected to backend '" + backendId + "' and replaces its earlier process "
          + replaced.stream().map(AgentRoster::describe).toList() + ", which is ended as lost now");
    }
    return session;
  }

  /** The agent id with the start of its instance, to tell two processes of one id apart in logs. */
  static String describe(AgentSession session) {
    String instance = session.instance();
    return instance.isEmpty()
        ? session.agentId()
        : session.agentId() + " (process " + instance.substring(0, Math.min(8, instance.length())) + ")";
  }

  private static String key(String agentId, String instance) {
    return instance + '/' + agentId;
  }

  /** Forgets the session; false when it was already gone (another thread ended it). */
  boolean remove(AgentSession session) {
    return agents.remove(key(session.agentId(), session.instance()), session);
  }

  boolean isEmpty() {
    return agents.isEmpty();
  }

  /** Live view, for sweeping; safe to iterate while sessions come and go. */
  Collection<AgentSession> sessions() {
    return agents.values();
  }

  /** A copy, for reports. */
  List<AgentSession> snapshot() {
    return List.copyOf(agents.values());
  }

  /** True when agents are connected and every one of them reports the backend down. */
  boolean allReportBackendDown() {
    if (agents.isEmpty()) {
      return false;
    }
    for (AgentSession session : agents.values()) {
      if (!session.reportsBackendDown()) {
        return false;
      }
    }
    return true;
  }
}
