package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.proxy.exchange.AgentSession;
import dev.drawbridge.proxy.exchange.Backend;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.exchange.ExchangeIds;
import dev.drawbridge.proxy.exchange.Tunnel;

/**
 * The exchange an agent call names, or the status and sentence the agent gets instead: the checks
 * every per-exchange call and every batched response share.
 *
 * @param exchange the exchange, or null when the call is refused
 */
record ExchangeLookup(Exchange exchange, int status, String message) {

  private static final String ENDED = "This exchange already ended; its client is gone or it timed out.";

  boolean found() {
    return exchange != null;
  }

  /**
   * The live exchange {@code id}; 410 for one that ended without completing in the last two
   * minutes (the agent should stop working on it), else 404: a completed exchange is forgotten at
   * once, since its agent already heard it was delivered.
   */
  static ExchangeLookup find(Tunnel tunnel, String id) {
    Exchange exchange = ExchangeIds.isWellFormed(id) ? tunnel.exchange(id) : null;
    if (exchange != null) {
      return new ExchangeLookup(exchange, 0, null);
    }
    return tunnel.endedRecently(id)
        ? new ExchangeLookup(null, 410, ENDED)
        : new ExchangeLookup(null, 404, "This proxy has no exchange with that id.");
  }

  /**
   * This lookup if the exchange went to the agent process of {@code agent} at {@code backend} and
   * has not ended: else 403 or 410. An exchange re-queued from a lost process and taken by a new
   * process of the same agent id belongs to the new one only.
   */
  ExchangeLookup deliveredTo(Backend backend, AgentSession agent) {
    if (!found()) {
      return this;
    }
    if (exchange.backend() != backend || exchange.owner() != agent) {
      return new ExchangeLookup(null, 403, "This exchange was delivered to another agent.");
    }
    if (exchange.state().isTerminal()) {
      return new ExchangeLookup(null, 410, ENDED);
    }
    return this;
  }
}
