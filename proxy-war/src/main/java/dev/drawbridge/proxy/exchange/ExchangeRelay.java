package dev.drawbridge.proxy.exchange;

/** An agent-side stream attached to an exchange, told when the exchange ends so it can end too. */
public interface ExchangeRelay {

  /** Called once, after the exchange reached {@code state}, from whichever thread ended it. */
  void exchangeEnded(ExchangeState state);

  /**
   * Called by the reaper every keepalive interval while the exchange is an open upgraded
   * connection: a relay with a stream to the agent that may stay silent sends a keepalive frame on
   * it. Must return at once.
   */
  default void keepAlive() {}
}
