package dev.drawbridge.proxy.exchange;

import java.util.function.IntSupplier;

/**
 * The places a backend has for upgraded connections (WebSockets), handshakes included, under its
 * {@code maxUpgraded} setting; 0 or less means no limit.
 */
public final class UpgradeSlots {

  private final Slots open = new Slots();
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
    return open.tryTake(max.getAsInt());
  }

  /** Gives back a place taken by {@link #tryAdmit}. */
  public void release() {
    open.release();
  }

  /** Upgraded connections open now, handshakes included. */
  public int open() {
    return open.taken();
  }
}
