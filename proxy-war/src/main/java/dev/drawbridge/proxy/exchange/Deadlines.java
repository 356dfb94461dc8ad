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
    if (exchange.isUpgrade()) {
      checkUpgrade(exchange, now, proxy);
      return;
    }
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
        }
        break;
      default:
        break;
    }
  }
}
