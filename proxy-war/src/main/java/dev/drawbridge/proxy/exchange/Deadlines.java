package dev.drawbridge.proxy.exchange;

import dev.drawbridge.proxy.config.ProxySettings;

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
    if (exchange.isUpgrade()) {
      checkUpgrade(exchange, now, backend.proxySettings());
      return;
    }
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

  /**
   * A handshake has one deadline for queue, agent and backend together, since a container thread
   * waits for it; an upgraded connection is cut only after a long silence both ways.
   */
  private static void checkUpgrade(Exchange exchange, long now, ProxySettings proxy) {
    long handshake = proxy.upgrades().handshakeTimeout().toNanos();
    switch (exchange.state()) {
      case QUEUED:
        if (now - exchange.createdNanos() > handshake) {
          Backend backend = exchange.backend();
          String message =
              backend.hasAgents()
                  ? "No agent took the WebSocket handshake for backend '" + backend.id() + "' within "
                      + proxy.upgrades().handshakeTimeout().toSeconds() + " s; retry later."
                  : "No agent is connected for backend '" + backend.id() + "'; retry later.";
          exchange.expire(ExchangeState.QUEUED, 503, message, proxy.retryAfterSeconds());
        }
        break;
      case DELIVERED:
        if (now - exchange.createdNanos() > handshake) {
          exchange.expire(
              ExchangeState.DELIVERED,
              504,
              "The backend did not answer the handshake within " + proxy.upgrades().handshakeTimeout().toSeconds() + " s.",
              0);
        }
        break;
      case RESPONDING:
        if (now - exchange.lastActivityNanos() > proxy.upgrades().idleTimeout().toNanos()) {
          exchange.expire(
              ExchangeState.RESPONDING,
              504,
              "The upgraded connection carried nothing for " + proxy.upgrades().idleTimeout().toSeconds() + " s.",
              0);
        } else {
          exchange.keepAlive(now, proxy.upgrades().keepaliveInterval().toNanos());
        }
        break;
      default:
        break;
    }
  }
}
