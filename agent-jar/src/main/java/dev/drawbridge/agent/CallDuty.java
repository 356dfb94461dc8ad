package dev.drawbridge.agent;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A node that handed this agent work on a streamed poll expects a call from it soon after, as
 * proof that the agent is alive and read it; a plain poll's agent gives that proof with its next
 * poll. Usually the work's own answer is that call. When it is not made in time, for a slow
 * backend, this sends an alive call instead, halfway through the time the node allows.
 */
final class CallDuty {

  /** One timer for the whole process: it only decides, the calls run on the agent's carriers. */
  private static final ScheduledExecutorService TIMER = timer();

  private final ProxyClient proxyClient;
  private final Executor carriers;
  /** When work was last taken from a stream, on {@link System#nanoTime()}; guarded by this. */
  private long workNanos;
  private long withinNanos;
  /** A check is scheduled; guarded by this. */
  private boolean scheduled;

  CallDuty(ProxyClient proxyClient, Executor carriers) {
    this.proxyClient = proxyClient;
    this.carriers = carriers;
  }

  /** Work was just taken from a streamed poll whose node expects a call within {@code withinMillis}. */
  void tookWork(long withinMillis) {
    synchronized (this) {
      workNanos = System.nanoTime();
      withinNanos = TimeUnit.MILLISECONDS.toNanos(withinMillis);
      if (scheduled) {
        return;
      }
      scheduled = true;
    }
    schedule(TimeUnit.MILLISECONDS.toNanos(withinMillis) / 2);
  }

  private void schedule(long delayNanos) {
    try {
      TIMER.schedule(this::check, Math.max(1, delayNanos), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      synchronized (this) {
        scheduled = false;
      }
    }
  }

  private void check() {
    long wait;
    synchronized (this) {
      if (proxyClient.lastCallNanos() - workNanos > 0) {
        scheduled = false;
        return;
      }
      wait = workNanos + withinNanos / 2 - System.nanoTime();
      if (wait <= 0) {
        scheduled = false;
      }
    }
    if (wait > 0) {
      schedule(wait);
      return;
    }
    try {
      carriers.execute(proxyClient::alive);
    } catch (RejectedExecutionException e) {
      // The agent is stopping.
    }
  }

  private static ScheduledExecutorService timer() {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
      Thread thread = new Thread(task, "drawbridge-call-duty");
      thread.setDaemon(true);
      return thread;
    });
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }
}
