package dev.drawbridge.proxy.web;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Keeps a {@link Lane} and the container apart on one held request: an agent's call, or a client's
 * request. The container may end the request on its own thread at any moment (its peer reset the
 * connection), and Tomcat then recycles the request's objects for the next connection at once: a
 * write, read or flush the lane was still inside would act on that other connection's request, and
 * a failing one marks that connection as broken. So the lane works on the request only between
 * {@link #enter()} and {@link #exit()}, and the container's ending waits for that work and keeps the
 * lane out afterwards.
 *
 * <p>Only a lane calls {@link #enter()}, and each guard belongs to one lane; container threads only
 * end the request. (Once the hand-off pool stopped, at undeploy, a container thread may drain a
 * lane inline: it is then that lane's only runner.) A lane holds the guards of at most one agent's
 * call and one client's request, in that order, and no other thread ever waits for a guard without
 * a bound, so guards form no cycle.
 *
 * <p>Inside the guard the lane's calls on the request are short, but a few of them can need the
 * container's lock on that connection, which the ending container thread holds: setting a read or
 * write listener from the lane, and Tomcat's read of the end of a chunked body, dispatch back to the
 * container under it. The container therefore waits at most {@link #LANE_WAIT_MILLIS} and then
 * ends the request regardless, so the two can never deadlock. A callback the container runs inline
 * on the lane's own thread enters again freely (the lock is reentrant).
 */
public final class CallGuard {

  /** Longest the container's thread waits for the lane's work in progress. */
  static final long LANE_WAIT_MILLIS = 2_000;

  private final ReentrantLock lock = new ReentrantLock();
  /** Set once the container ended the request. */
  private volatile boolean endedByContainer;

  /**
   * Starts the lane's work on the request; false when the container already ended it, and the lane
   * must leave it alone. Either way {@link #exit()} follows.
   */
  public boolean enter() {
    lock.lock();
    return !endedByContainer;
  }

  /** Ends the lane's work started by {@link #enter()}. */
  public void exit() {
    lock.unlock();
  }

  /**
   * Keeps the lane out from now on without waiting for its work in progress: for the container's
   * report that it finished the request, which Tomcat makes while holding the request's async state
   * lock, a lock the lane's calls on the request may need.
   */
  public void markEnded() {
    endedByContainer = true;
  }

  /** True once the container ended the request; a lane's loop looks at it between steps. */
  public boolean isEnded() {
    return endedByContainer;
  }

  /**
   * The container ends the request, on its thread: waits for the lane's work in progress (see the
   * class comment for how long), runs {@code ending}, and keeps the lane out from then on.
   */
  public void endByContainer(Runnable ending) {
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
