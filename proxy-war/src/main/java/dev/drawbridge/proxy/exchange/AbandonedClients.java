package dev.drawbridge.proxy.exchange;

import dev.drawbridge.proxy.net.ClosedConnections;
import dev.drawbridge.proxy.net.ConnectionKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Ends the exchanges whose client closed its connection while the request waits, queued or at an
 * agent, so an abandoned request frees its queue slot (and its agent) within a second instead of
 * at its deadline. Servlet containers do not tell: Tomcat 11 and Jetty 12 notice a client that
 * closed a connection whose request they hold asynchronously, with no read pending, only when
 * something is written to it. So the reaper asks the system once a second which of the proxy's
 * connections the peer has closed ({@link ClosedConnections}), and only while requests wait.
 */
final class AbandonedClients {

  private static final Logger LOG = Logger.getLogger(AbandonedClients.class.getName());

  /** How often the connections are checked; bounds how long an abandoned request stays. */
  static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** What the client's log line says; the client itself hears a 400 only if it still listens. */
  static final String GONE = "The client closed its connection while its request waited.";

  private final ClosedConnections connections;
  private long nextCheck;
  private boolean first = true;

  AbandonedClients(ClosedConnections connections) {
    this.connections = connections;
  }

  /** Reaper duty, called on every sweep; checks at most once per {@link #INTERVAL_NANOS}. */
  void sweep(long now, Collection<Exchange> live) {
    if (!first && now - nextCheck < 0) {
      return;
    }
    first = false;
    nextCheck = now + INTERVAL_NANOS;
    List<Exchange> waiting = new ArrayList<>();
    for (Exchange exchange : live) {
      ExchangeState state = exchange.state();
      if ((state == ExchangeState.QUEUED || state == ExchangeState.DELIVERED) && exchange.client().connection() != null) {
        waiting.add(exchange);
      }
    }
    if (waiting.isEmpty()) {
      return;
    }
    Set<ConnectionKey> closed = connections.closedByPeer();
    if (closed.isEmpty()) {
      return;
    }
    int ended = 0;
    for (Exchange exchange : waiting) {
      if (closed.contains(exchange.client().connection())) {
        exchange.clientGone(GONE);
        ended++;
      }
    }
    if (ended > 0) {
      int count = ended;
      LOG.fine(() -> count + " waiting requests ended: their clients closed their connections");
    }
  }
}
