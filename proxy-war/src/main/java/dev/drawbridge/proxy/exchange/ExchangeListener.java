package dev.drawbridge.proxy.exchange;

/** Told once when an exchange ends, to remove it from every registry. */
interface ExchangeListener {

  void exchangeEnded(Exchange exchange);
}
