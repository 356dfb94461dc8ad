package dev.drawbridge.proxy.web;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Work that runs on the {@link Handoff} pool whenever it is woken: runs never overlap, and a wake
 * that arrives during a run makes it run once more, so no wake is lost and callbacks need no lock.
 */
public final class Lane {

  private static final int IDLE = 0;
  private static final int SCHEDULED = 1;
  private static final int RUNNING = 2;
  private static final int RUNNING_AGAIN = 3;

  private final Handoff handoff;
  private final Runnable work;
  private final AtomicInteger state = new AtomicInteger(IDLE);

  Lane(Handoff handoff, Runnable work) {
    this.handoff = handoff;
    this.work = work;
  }

  /** Schedules a run; cheap, never blocks, safe from any thread and any callback. */
  public void wake() {
    while (true) {
      int now = state.get();
      switch (now) {
        case IDLE:
          if (state.compareAndSet(IDLE, SCHEDULED)) {
            handoff.execute(this::run);
            return;
          }
          break;
        case RUNNING:
          if (state.compareAndSet(RUNNING, RUNNING_AGAIN)) {
            return;
          }
          break;
        default:
          // Already scheduled, or already due to run again.
          return;
      }
    }
  }

  private void run() {
    state.set(RUNNING);
    try {
      Handoff.runQuietly(work);
    } finally {
      if (!state.compareAndSet(RUNNING, IDLE)) {
        // Woken during the run: go to the back of the pool's queue, so one busy lane cannot
        // starve the others.
        state.set(SCHEDULED);
        handoff.execute(this::run);
      }
    }
  }
}
