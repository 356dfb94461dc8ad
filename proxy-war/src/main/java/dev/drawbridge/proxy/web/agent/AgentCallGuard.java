package dev.drawbridge.proxy.web.agent;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Keeps a relay's lane and the container apart on an agent's call. The container may end the call
 * on its own thread at any moment (the agent reset the connection), and Tomcat then recycles the
 * call's objects for the next connection at once: a write or flush the lane was still inside would
 * act on that other connection, and a failing one marks it as broken. So the lane works on the call
 * only between {@link #enter()} and {@link #exit()}, and the container's ending waits for that work
 * and keeps the lane out afterwards.
 *
 * <p>Between the two the lane makes only non-blocking calls on the agent's connection and sets no
 * listener on it, so the container's thread normally waits no longer than one of those. One call
 * can still need the container's lock on that connection, which the ending container thread holds:
 * Tomcat's read of the end of a chunked body dispatches back to the container under it. The
 * container therefore waits at most {@link #LANE_WAIT_MILLIS} and then ends the call regardless.
 */
final class AgentCallGuard {

  /** Longest the container's thread waits for the lane's work in progress. */
  static final long LANE_WAIT_MILLIS = 2_000;

  private final ReentrantLock lock = new ReentrantLock();
  /** Set once the container ended the call. */
  private volatile boolean endedByContainer;

  /**
   * Starts the lane's work on the call; false when the container already ended it, and the lane
   * must leave it alone. Either way {@link #exit()} follows.
   */
  boolean enter() {
    lock.lock();
    return !endedByContainer;
  }

  /** Ends the lane's work started by {@link #enter()}. */
  void exit() {
    lock.unlock();
  }

  /**
   * The container ends the call, on its thread: waits for the lane's work in progress (see the
   * class comment for how long), runs {@code ending} (which completes the call), and keeps the lane
   * out from then on.
   */
  void endByContainer(Runnable ending) {
    endedByContainer = true;
    boolean locked = false;
    try {
      locked = lock.tryLock(LANE_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      ending.run();
    } finally {
      if (locked) {
        lock.unlock();
      }
    }
  }
}
