package dev.drawbridge.proxy.exchange;

import dev.drawbridge.proxy.config.BackendSettings;
import dev.drawbridge.proxy.config.ProxySettings;

/**
 * The deadline of each exchange state and what the client is told when it passes. The reaper
 * calls {@link #check} for every live exchange on each sweep.
 */
final class Deadlines {

  private Deadlines() {}

  /** Ends the exchange if the deadline of its current state passed. */
  static void check(Exchange exchange, long now, ProxySettings proxy) {
    Backend backend = exchange.backend();
    BackendSettings settings = backend.settings();
    switch (exchange.state()) {
      case QUEUED:
        if (now - exchange.createdNanos() > settings.queueTimeout().toNanos()) {
          String message =
              backend.hasAgents()
                  ? "No agent took the request for backend '" + backend.id() + "' within "
                      + settings.queueTimeout().toSeconds() + " s; retry later."
                  : "No agent is connected for backend '" + backend.id() + "'; retry later.";
          exchange.expire(ExchangeState.QUEUED, 503, message, proxy.retryAfterSeconds());
        }
        break;
      case DELIVERED:
        // Measured from the last body activity, like a read timeout: a long upload still counts.
        if (now - exchange.lastActivityNanos() > settings.responseTimeout().toNanos()) {
          exchange.expire(
              ExchangeState.DELIVERED,
              504,
              "The backend did not answer within " + settings.responseTimeout().toSeconds() + " s.",
              0);
        }
        break;
      case RESPONDING:
        if (now - exchange.lastActivityNanos() > proxy.idleTimeout().toNanos()) {
          exchange.expire(
              ExchangeState.RESPONDING,
              504,
              "The response stalled for " + proxy.idleTimeout().toSeconds() + " s.",
              0);
        }
        break;
      default:
        break;
    }
  }
}
