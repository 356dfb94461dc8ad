package dev.drawbridge.agent;

import dev.drawbridge.protocol.ResponseHead;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * The agent's open upgraded connections (WebSockets), apart from the exchange workers and their
 * slots: an open connection holds no slot, so the requests of a backend keep flowing however many
 * WebSockets stay open. At most {@link #max()} are open at once.
 */
final class UpgradedConnections implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(UpgradedConnections.class.getName());

  /** Most upgraded connections one agent keeps open for one backend. */
  static final int DEFAULT_MAX = 1000;

  private final int max;
  private final AtomicInteger reserved = new AtomicInteger();
  private final Map<String, UpgradedConnection> open = new ConcurrentHashMap<>();
  private final ExecutorService pumps;

  UpgradedConnections(int max) {
    this.max = max;
    AtomicInteger count = new AtomicInteger();
    this.pumps =
        Executors.newCachedThreadPool(
            task -> {
              Thread thread = new Thread(null, task, "drawbridge-upgraded-" + count.incrementAndGet(), UpgradedConnection.STACK_BYTES);
              thread.setDaemon(true);
              return thread;
            });
  }

  int max() {
    return max;
  }

  /** Takes a place for a handshake; false at the limit. */
  boolean tryReserve() {
    while (true) {
      int now = reserved.get();
      if (now >= max) {
        return false;
      }
      if (reserved.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  /** Gives back a place taken by {@link #tryReserve()} that did not become a connection. */
  void unreserve() {
    reserved.decrementAndGet();
  }

  /**
   * Starts relaying a switched connection through {@code proxyClient}, the client of the proxy node
   * that delivered it; false when the agent is stopping (nothing started).
   */
  boolean open(String exchangeId, ResponseHead switchHead, BackendHandshake handshake, ProxyClient proxyClient,
      long startedNanos) {
    UpgradedConnection connection =
        new UpgradedConnection(exchangeId, switchHead, handshake, proxyClient, startedNanos, () -> closed(exchangeId));
    open.put(exchangeId, connection);
    try {
      connection.start(pumps);
      return true;
    } catch (RejectedExecutionException e) {
      open.remove(exchangeId);
      return false;
    }
  }

  private void closed(String exchangeId) {
    if (open.remove(exchangeId) != null) {
      reserved.decrementAndGet();
    }
  }

  /** The proxy ended the exchange: close its connection, if it is one of these. */
  boolean cancel(String exchangeId) {
    UpgradedConnection connection = open.get(exchangeId);
    if (connection == null) {
      return false;
    }
    connection.close("the proxy ended it");
    return true;
  }

  /** Connections open now. */
  int openCount() {
    return open.size();
  }

  /** Closes every connection (their clients see them close) and stops the relay threads. */
  @Override
  public void close() {
    List<UpgradedConnection> all = List.copyOf(open.values());
    if (!all.isEmpty()) {
      LOG.info("Closing " + all.size() + " upgraded connections (WebSockets)");
    }
    for (UpgradedConnection connection : all) {
      connection.close("the agent is stopping");
    }
    pumps.shutdown();
    try {
      pumps.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    pumps.shutdownNow();
  }
}
