package dev.drawbridge.proxy.exchange;

/** An agent-side stream attached to an exchange, told when the exchange ends so it can end too. */
public interface ExchangeRelay {

  /** Called once, after the exchange reached {@code state}, from whichever thread ended it. */
  void exchangeEnded(ExchangeState state);
}
