package dev.drawbridge.proxy.exchange;

import java.util.List;

/** An agent's long-poll, held until work, a cancellation or its deadline arrives. */
public interface PendingPoll {

  /** The polling agent. */
  String agentId();

  /** Most exchanges the agent can take now; 0 for a poll that only listens for cancellations. */
  int max();

  /** When the poll must be answered even without work, on the tunnel's clock ({@link Tunnel#nanoTime()}). */
  long deadlineNanos();

  /** True when the polling agent relays upgraded connections; only such polls get handshakes. */
  default boolean upgrades() {
    return false;
  }

  /**
   * True for a streamed poll: its answers do not end it, and the agent makes no new call after one;
   * it waits again until its stream ends.
   */
  default boolean streams() {
    return false;
  }

  /**
   * Answers the poll. Called at most once; every exchange passed is already delivered to this
   * agent, so an answer that cannot be written must fail them.
   */
  void answer(List<Exchange> exchanges, List<String> cancelled, boolean draining);
}
