package dev.drawbridge.proxy.web.client;

import dev.drawbridge.proxy.web.CallGuard;
import dev.drawbridge.proxy.web.Lane;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * Where a client leg's answers run. The exchange decides an answer on whatever thread ends it, and
 * that thread may serve another connection, so the answer is queued for the client's {@link Lane}
 * and runs there inside the request's {@link CallGuard}. The one exception is the container's own
 * error or timeout callback for this request: it must answer before it returns (else the container
 * answers itself, with 500 after a timeout, or completes the request after an error, racing the
 * lane), so answers decided while it runs, or still queued, run on it. It serves this very
 * connection, so the hand-off rule allows it.
 */
final class ClientAnswers {

  /** Longest a container timeout waits for an answer the lane is giving at that moment. */
  private static final long ANSWER_WAIT_MILLIS = 2_000;

  private final Lane lane;
  private final CallGuard guard;
  /** The container thread inside this request's own {@code onTimeout} or {@code onError}; null otherwise. */
  private volatile Thread callbackThread;
  /** Answers decided on by other threads, until the lane or a container callback runs them. */
  private final Queue<Runnable> pending = new ConcurrentLinkedQueue<>();
  /** Guards {@link #running} and {@link #handedOver}; told when an answer is handed over or ends. */
  private final Object answering = new Object();
  /** Answers running now, in the lane or in a callback. */
  private int running;
  /** Set once the exchange handed the leg its answer (or release). */
  private boolean handedOver;

  ClientAnswers(Lane lane, CallGuard guard) {
    this.lane = lane;
    this.guard = guard;
  }

  /** Gives {@code answer}: at once on the request's own container callback, else in the lane. */
  void give(Runnable answer) {
    if (Thread.currentThread() == callbackThread) {
      handOver();
      answer.run();
    } else {
      pending.add(answer);
      handOver();
      inLane(this::runPending);
    }
  }

  /**
   * Runs {@code task} in the lane inside the guard, or not at all once the container ended the
   * request. Queued answers are taken only inside it, so a container callback, which holds the
   * guard while it answers, runs itself each answer the lane did not start yet.
   */
  void inLane(Runnable task) {
    lane.execute(() -> {
      try {
        if (guard.enter()) {
          task.run();
        }
      } finally {
        guard.exit();
      }
    });
  }

  /**
   * The container's error callback ends the request: once the lane's work in progress is done,
   * {@code ending} tells the exchange, and every answer not given yet is given here.
   */
  void endOnError(Runnable ending) {
    endByContainer(() -> {
      ending.run();
      runPending();
    });
  }

  /**
   * The container's timeout callback ends the request: as {@link #endOnError}, and it also waits
   * for an answer the exchange decided but has not handed over yet, up to {@link
   * #ANSWER_WAIT_MILLIS}, since the container ends a timed-out request with its own error page
   * (500) once this returns.
   */
  void endOnTimeout(Runnable ending) {
    endByContainer(() -> {
      ending.run();
      giveBeforeTimeoutReturns();
    });
  }

  private void endByContainer(Runnable ending) {
    callbackThread = Thread.currentThread();
    try {
      guard.endByContainer(ending);
    } finally {
      callbackThread = null;
    }
  }

  /** Runs the answers queued and not started yet; whoever comes first runs each. */
  private void runPending() {
    while (true) {
      Runnable answer;
      // Taken and counted in one step: a container timeout waiting for answers never sees one
      // that left the queue but does not count as running yet.
      synchronized (answering) {
        answer = pending.poll();
        if (answer == null) {
          return;
        }
        running++;
      }
      try {
        answer.run();
      } finally {
        synchronized (answering) {
          running--;
          answering.notifyAll();
        }
      }
    }
  }

  /** Records that the exchange's answer reached the leg, and wakes a container timeout waiting for it. */
  private void handOver() {
    synchronized (answering) {
      handedOver = true;
      answering.notifyAll();
    }
  }

  /**
   * Runs what is handed over here, and waits for what the lane may still be running (when the
   * guard stopped waiting for it), until the answer was given or {@link #ANSWER_WAIT_MILLIS}
   * passed.
   */
  private void giveBeforeTimeoutReturns() {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ANSWER_WAIT_MILLIS);
    while (true) {
      runPending();
      synchronized (answering) {
        long left = deadline - System.nanoTime();
        if (handedOver && running == 0 && pending.isEmpty() || left <= 0) {
          return;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(answering, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }
}
