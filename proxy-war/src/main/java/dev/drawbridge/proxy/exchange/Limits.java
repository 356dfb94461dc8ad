package dev.drawbridge.proxy.exchange;

import dev.drawbridge.proxy.config.BackendSettings;
import dev.drawbridge.proxy.config.ProxySettings;
import java.time.Duration;

/**
 * The deadlines of one exchange, fixed when its client request arrives: a configuration reloaded
 * later applies to new requests only and never moves the deadlines of an exchange in flight.
 *
 * @param queueTimeout how long it may wait for an agent
 * @param responseTimeout how long its agent may take to start answering
 * @param idleTimeout how long its response may stay silent
 * @param retryAfterSeconds what a 503 asks its client to wait
 */
public record Limits(Duration queueTimeout, Duration responseTimeout, Duration idleTimeout, int retryAfterSeconds) {

  /** The limits a request of {@code backend} gets under {@code proxy}. */
  static Limits of(BackendSettings backend, ProxySettings proxy) {
    return new Limits(backend.queueTimeout(), backend.responseTimeout(), proxy.idleTimeout(), proxy.retryAfterSeconds());
  }
}
