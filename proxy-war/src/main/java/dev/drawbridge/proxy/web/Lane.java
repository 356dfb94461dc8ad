package dev.drawbridge.proxy.web;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the work of one held request and the relays that serve it on the {@link Handoff} threads,
 * one task at a time and in the order given, so the servlet objects it touches are never used by
 * two of its tasks at once. Any thread may hand it work; none waits for it.
 */
public final class Lane implements Executor {

  private final Executor threads;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicInteger pending = new AtomicInteger();
  private final Pump own;

  Lane(Executor threads, Runnable work) {
    this.threads = threads;
    this.own = work == null ? null : pump(work);
  }

  /** Queues {@code task} behind the lane's earlier tasks. */
  @Override
  public void execute(Runnable task) {
    tasks.add(task);
    if (pending.getAndIncrement() == 0) {
      threads.execute(this::drain);
    }
  }

  /** A pump that runs {@code work} in this lane whenever it is woken. */
  public Pump pump(Runnable work) {
    return new Pump(this, work);
  }

  /** Wakes the work this lane was made for ({@link Handoff#lane(Runnable)}). */
  public void wake() {
    if (own == null) {
      throw new IllegalStateException("this lane has no work of its own; hand it tasks or pumps instead");
    }
    own.wake();
  }

  private void drain() {
    do {
      Handoff.runGuarded(tasks.poll());
    } while (pending.decrementAndGet() > 0);
  }

  /**
   * Work that runs again whenever an event may let it make progress, such as a relay between two
   * streams woken by either stream's listener. Wakes that arrive before a queued run starts are
   * folded into it; a wake during a run queues one more, so no event is lost between the work's
   * last look and its return.
   */
  public static final class Pump {

    private final Lane lane;
    private final Runnable work;
    private final AtomicBoolean woken = new AtomicBoolean();

    private Pump(Lane lane, Runnable work) {
      this.lane = lane;
      this.work = work;
    }

    /** Runs the work soon in the lane, unless a run is already queued and has not started. */
    public void wake() {
      if (woken.compareAndSet(false, true)) {
        lane.execute(this::run);
      }
    }

    private void run() {
      // Cleared before the work looks at anything, so a wake during the run queues another.
      woken.set(false);
      work.run();
    }
  }
}
