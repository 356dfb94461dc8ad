package dev.drawbridge.proxy.exchange;

import dev.drawbridge.proxy.auth.AgentTokens;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * How agents leave one backend: shutting down on purpose, replaced by a newer process of their id,
 * gone silent, or calling with a token a reload took away. Each way ends the agent's parked polls
 * at once. A lost agent's requests in flight go back to the front of the queue where they may be
 * repeated, and fail with 502 where not. The queue and the parked polls stay the backend's, under
 * its lock; this class decides who leaves and what becomes of their work.
 */
final class AgentDepartures {

  private static final Logger LOG = Logger.getLogger(AgentDepartures.class.getName());

  private final Backend backend;
  private final AgentRoster agents;

  AgentDepartures(Backend backend, AgentRoster agents) {
    this.backend = backend;
    this.agents = agents;
  }

  /** Reaper duty: ends the sessions of agents that left, were replaced, or went silent. */
  void sweep(long now) {
    long lostAfter = backend.proxySettings().pollWait().plus(backend.proxySettings().agentGrace()).toNanos();
    boolean draining = backend.isDraining();
    for (AgentSession session : agents.sessions()) {
      if (session.isReplaced()) {
        lost(session, "was restarted: a new process took over its agent id");
        continue;
      }
      if (session.isLeaving() && session.inFlightCount() == 0) {
        if (agents.remove(session)) {
          backend.answerEmpty(backend.endSession(session), session);
          LOG.info(() -> "Agent " + AgentRoster.describe(session) + " of backend '" + backend.id() + "' left");
        }
        continue;
      }
      // A draining node answers polls at once and agents back off from it, so silence then is no
      // sign of a lost agent; requests it still runs are bounded by their own deadlines.
      if (draining) {
        continue;
      }
      if (session.missedExpectedCall(now)) {
        lost(session, "took work and did not call again within agentGraceSeconds");
      } else if (now - session.lastSeenNanos() > lostAfter && !backend.hasParkedPoll(session)) {
        lost(session, "stopped polling");
      }
    }
  }

  /**
   * The agent is shutting down: its held polls are answered now (so no request is handed to a
   * connection nobody reads any more) and it gets no more work; its exchanges in flight go on.
   */
  void leaving(AgentSession session) {
    session.leave();
    backend.answerEmpty(backend.unpark(session, true), session);
    LOG.info(
        () ->
            "Agent " + AgentRoster.describe(session) + " of backend '" + backend.id() + "' is shutting down; it finishes "
                + session.inFlightCount() + " exchanges in flight and takes no more work");
  }

  /**
   * Ends at once the held polls of agents whose token the backend no longer lists, so that they
   * call again now and hear 401 (or 403), rather than keep a poll that could still be handed work.
   */
  void revokeTokensNotIn(List<byte[]> digests) {
    for (AgentSession session : agents.sessions()) {
      byte[] used = session.tokenSha256();
      if (used == null || AgentTokens.matchesDigest(used, digests)) {
        continue;
      }
      List<PendingPoll> polls = backend.unpark(session, true);
      LOG.info(() -> "Agent " + AgentRoster.describe(session) + " of backend '" + backend.id()
          + "' calls with a token the configuration no longer lists; its " + polls.size()
          + " held polls end now and its next call is refused");
      backend.answerEmpty(polls, session);
    }
  }

  private void lost(AgentSession session, String why) {
    if (!agents.remove(session)) {
      return;
    }
    // From here on no poll of this session parks or takes work, so its in-flight set is complete.
    backend.answerEmpty(backend.endSession(session), session);
    List<Exchange> failed = new ArrayList<>();
    List<Exchange> requeued = new ArrayList<>();
    for (Exchange exchange : session.inFlight()) {
      boolean again = Requeue.afterLoss(backend.proxySettings(), exchange.head()) && exchange.requeue(session);
      (again ? requeued : failed).add(exchange);
    }
    LOG.warning(
        () ->
            "Agent " + AgentRoster.describe(session) + " of backend '" + backend.id() + "' " + why
                + " and is considered lost; " + failed.size() + " of its exchanges fail with 502 and "
                + requeued.size() + " go back to the queue. Check the agent's process and its network path to the proxy.");
    for (Exchange exchange : failed) {
      exchange.fail(502, "The agent serving this request was lost before it answered.");
    }
    if (!requeued.isEmpty()) {
      backend.requeueFirst(requeued);
    }
    backend.failQueueIfUnreachable();
  }
}
