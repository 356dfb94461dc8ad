package dev.drawbridge.agent;

import java.util.concurrent.Semaphore;

/**
 * Free exchange slots. A poll reserves slots before it asks the proxy for work, so the agent never
 * receives more requests than it can run at once.
 */
final class Capacity {

  private final Semaphore slots;

  Capacity(int concurrency) {
    this.slots = new Semaphore(concurrency);
  }

  /** Blocks until one slot is free, then takes up to {@code max} slots that are free now. */
  int reserve(int max) throws InterruptedException {
    slots.acquire();
    int taken = 1;
    while (taken < max && slots.tryAcquire()) {
      taken++;
    }
    return taken;
  }

  /** Gives back {@code count} slots. */
  void release(int count) {
    if (count > 0) {
      slots.release(count);
    }
  }

  /** Slots free right now. */
  int free() {
    return slots.availablePermits();
  }
}
