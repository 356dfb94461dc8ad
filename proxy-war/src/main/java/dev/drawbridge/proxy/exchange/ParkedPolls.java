package dev.drawbridge.proxy.exchange;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent polls one backend holds, in arrival order, each with the agent process that sent it.
 * Not thread-safe: its {@link Backend} guards it with the lock that guards its queue, so that a
 * request and a poll can never both wait for each other.
 */
final class ParkedPolls {

  /** A held poll and the agent process that sent it. */
  record Parked(PendingPoll poll, AgentSession session) {}

  private final LinkedHashMap<PendingPoll, AgentSession> polls = new LinkedHashMap<>();

  void park(PendingPoll poll, AgentSession session) {
    polls.put(poll, session);
  }

  void park(Parked parked) {
    polls.put(parked.poll(), parked.session());
  }

  /** Forgets {@code poll}, if it is held. */
  void remove(PendingPoll poll) {
    polls.remove(poll);
  }

  /**
   * Takes out the longest-held poll that can take {@code work} now, or that wants any work when
   * {@code work} is null; null when none can.
   */
  Parked takeFor(Exchange work) {
    for (Iterator<Map.Entry<PendingPoll, AgentSession>> it = polls.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<PendingPoll, AgentSession> entry = it.next();
      PendingPoll poll = entry.getKey();
      if (poll.max() > 0 && entry.getValue().takesWork() && (work == null || poll.canTake(work))) {
        it.remove();
        return new Parked(poll, entry.getValue());
      }
    }
    return null;
  }

  /** Takes out the polls of {@code session}: the longest-held one, or all of them. */
  List<PendingPoll> takeOf(AgentSession session, boolean all) {
    List<PendingPoll> taken = new ArrayList<>();
    for (Iterator<Map.Entry<PendingPoll, AgentSession>> it = polls.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<PendingPoll, AgentSession> entry = it.next();
      if (entry.getValue() == session) {
        it.remove();
        taken.add(entry.getKey());
        if (!all) {
          break;
        }
      }
    }
    return taken;
  }

  /** Takes out the polls whose wait ended by {@code now}, on the tunnel's clock. */
  List<Parked> takeDue(long now) {
    List<Parked> due = new ArrayList<>();
    for (Iterator<Map.Entry<PendingPoll, AgentSession>> it = polls.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<PendingPoll, AgentSession> entry = it.next();
      if (now - entry.getKey().deadlineNanos() >= 0) {
        it.remove();
        due.add(new Parked(entry.getKey(), entry.getValue()));
      }
    }
    return due;
  }

  /** Takes out every held poll. */
  List<Parked> takeAll() {
    List<Parked> all = new ArrayList<>(polls.size());
    polls.forEach((poll, session) -> all.add(new Parked(poll, session)));
    polls.clear();
    return all;
  }

  boolean holdsPollOf(AgentSession session) {
    return polls.containsValue(session);
  }

  int size() {
    return polls.size();
  }
}
