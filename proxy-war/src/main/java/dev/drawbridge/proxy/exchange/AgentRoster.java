package dev.drawbridge.proxy.exchange;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/** The agents connected to one backend, and what they report about it. */
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
   * Records a call from an agent, made with the token of digest {@code tokenSha256}, and returns
   * its session, creating it on first contact.
   */
  AgentSession session(String agentId, String version, String remoteAddress, byte[] tokenSha256) {
    long now = nanoClock.getAsLong();
    AgentSession session =
        agents.computeIfAbsent(
            agentId,
            id -> {
              LOG.info(() -> "Agent " + id + " " + version + " from " + remoteAddress + " connected to backend '" + backendId + "'");
              return new AgentSession(id, version, remoteAddress, now);
            });
    session.called(now);
    session.usesToken(tokenSha256);
    return session;
  }

  /** The session of a connected agent, or null. */
  AgentSession get(String agentId) {
    return agentId == null ? null : agents.get(agentId);
  }

  /** Forgets the session; false when it was already gone (another thread ended it). */
  boolean remove(AgentSession session) {
    return agents.remove(session.agentId(), session);
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

  /** True when this agent's health check says the backend is down. */
  boolean reportsBackendDown(String agentId) {
    AgentSession session = agents.get(agentId);
    return session != null && session.reportsBackendDown();
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
