package dev.drawbridge.proxy.exchange;

/**
 * The deadline of each exchange state and what the client is told when it passes. The reaper
 * calls {@link #check} for every live exchange on each sweep. The deadlines are the exchange's own
 * {@link Limits}, so a reloaded configuration never moves them.
 */
final class Deadlines {

  private Deadlines() {}

  /** Ends the exchange if the deadline of its current state passed. */
  static void check(Exchange exchange, long now) {
    Backend backend = exchange.backend();
    Limits limits = exchange.limits();
    switch (exchange.state()) {
      case QUEUED:
        if (now - exchange.createdNanos() > limits.queueTimeout().toNanos()) {
          String message =
              backend.hasAgents()
                  ? "No agent took the request for backend '" + backend.id() + "' within "
                      + limits.queueTimeout().toSeconds() + " s; retry later."
                  : "No agent is connected for backend '" + backend.id() + "'; retry later.";
          exchange.expire(ExchangeState.QUEUED, 503, message, limits.retryAfterSeconds());
        }
        break;
      case DELIVERED:
        // Measured from the last body activity, like a read timeout: a long upload still counts.
        if (now - exchange.lastActivityNanos() > limits.responseTimeout().toNanos()) {
          exchange.expire(
              ExchangeState.DELIVERED,
              504,
              "The backend did not answer within " + limits.responseTimeout().toSeconds() + " s.",
              0);
        }
        break;
      case RESPONDING:
        if (now - exchange.lastActivityNanos() > limits.idleTimeout().toNanos()) {
          exchange.expire(
              ExchangeState.RESPONDING,
              504,
              "The response stalled for " + limits.idleTimeout().toSeconds() + " s.",
              0);
        }
        break;
      default:
        break;
    }
  }
}
