package dev.drawbridge.agent;

import dev.drawbridge.protocol.ResponseHead;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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

  /** How long stopping waits for the proxy to take the connections' last frames. */
  private static final long STOP_MILLIS = 5000;

  private final int max;
  private final AtomicInteger reserved = new AtomicInteger();
  private final Map<String, UpgradedConnection> open = new ConcurrentHashMap<>();
  private final UpgradeLoop loop = new UpgradeLoop("drawbridge-upgraded");
  private final Keepalives keepalives;
  private volatile boolean stopped;

  /** @param keepalives what keeps a quiet connection's response call open toward nodes that read them */
  UpgradedConnections(int max, Keepalives keepalives) {
    this.max = max;
    this.keepalives = keepalives;
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
    UpgradedConnection connection = new UpgradedConnection(exchangeId, switchHead, handshake.channel(),
        handshake.bytesAfterHead(), proxyClient, loop, keepalives.toward(proxyClient),
        startedNanos, () -> closed(exchangeId));
    synchronized (this) {
      if (stopped) {
        return false;
      }
      open.put(exchangeId, connection);
    }
    connection.start();
    return true;
  }

  private void closed(String exchangeId) {
    if (open.remove(exchangeId) != null) {
      reserved.decrementAndGet();
    }
    synchronized (this) {
      notifyAll();
    }
  }

  /** The proxy ended the exchange: close its connection, if it is one of these. */
  boolean cancel(String exchangeId) {
    UpgradedConnection connection = open.get(exchangeId);
    if (connection == null) {
      return false;
    }
    connection.closeLater("the proxy ended it");
    return true;
  }

  /** Connections open now. */
  int openCount() {
    return open.size();
  }

  /**
   * Closes every connection (their clients see them close), waits up to {@value #STOP_MILLIS} ms
   * for the proxy to take their last frames, and stops the loop.
   */
  @Override
  public void close() {
    List<UpgradedConnection> all;
    synchronized (this) {
      stopped = true;
      all = List.copyOf(open.values());
    }
    if (!all.isEmpty()) {
      LOG.info("Closing " + all.size() + " upgraded connections (WebSockets)");
    }
    for (UpgradedConnection connection : all) {
      connection.closeLater("the agent is stopping");
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_MILLIS);
    synchronized (this) {
      try {
        long left;
        while (!open.isEmpty() && (left = deadline - System.nanoTime()) > 0) {
          TimeUnit.NANOSECONDS.timedWait(this, left);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    loop.close();
  }
}
