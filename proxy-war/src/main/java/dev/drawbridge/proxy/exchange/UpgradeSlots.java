package dev.drawbridge.proxy.exchange;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * The places a backend has for upgraded connections (WebSockets), handshakes included, under its
 * {@code maxUpgraded} setting; 0 or less means no limit.
 */
public final class UpgradeSlots {

  private final AtomicInteger open = new AtomicInteger();
  /** Read at each admission, so that a reload's new limit applies to the next handshake. */
  private final IntSupplier max;

  UpgradeSlots(IntSupplier max) {
    this.max = max;
  }

  /**
   * Takes a place for one more upgraded connection; false when the limit is reached. The place is
   * given back when the exchange ends, or by {@link #release} if it never opened.
   */
  public boolean tryAdmit() {
    int limit = max.getAsInt();
    while (true) {
      int now = open.get();
      if (limit > 0 && now >= limit) {
        return false;
      }
      if (open.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  /** Gives back a place taken by {@link #tryAdmit}. */
  public void release() {
    open.decrementAndGet();
  }

  /** Upgraded connections open now, handshakes included. */
  public int open() {
    return open.get();
  }
}
