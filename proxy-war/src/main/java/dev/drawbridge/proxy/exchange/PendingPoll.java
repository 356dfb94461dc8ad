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

  /** True when this poll may be handed {@code exchange}: handshakes go only to agents that relay them. */
  default boolean canTake(Exchange exchange) {
    return !exchange.isUpgrade() || upgrades();
  }

  /**
   * True when an answer handing over {@code handedOver} exchanges obliges the agent to call again
   * within the grace, which is how the proxy finds an agent that died with work. A plain poll with
   * room for more is followed by the next poll as soon as its answer was read; one that filled
   * every place the agent had expects nothing, since the agent may wait for a free place. A
   * streamed poll's answers bring no new call, so its agent calls within the grace after any work
   * (an alive call when it has nothing else to say). Asked before the answer is given.
   */
  default boolean expectsCallAfter(int handedOver) {
    return handedOver > 0 && (streams() || handedOver < max());
  }

  /**
   * Answers the poll. Called at most once; every exchange passed is already delivered to this
   * agent, so an answer that cannot be written must fail them.
   */
  void answer(List<Exchange> exchanges, List<String> cancelled, boolean draining);
}
