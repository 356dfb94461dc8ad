package dev.drawbridge.proxy.exchange;

import java.util.concurrent.atomic.AtomicInteger;

/** A count of places taken under a limit that may change from one call to the next. */
final class Slots {

  private final AtomicInteger taken = new AtomicInteger();

  /** Takes a place; false (nothing taken) when {@code limit} are taken already. 0 or less: no limit. */
  boolean tryTake(int limit) {
    while (true) {
      int now = taken.get();
      if (limit > 0 && now >= limit) {
        return false;
      }
      if (taken.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  /** Gives a place back; never below none. */
  void release() {
    taken.updateAndGet(now -> Math.max(0, now - 1));
  }

  int taken() {
    return taken.get();
  }
}
