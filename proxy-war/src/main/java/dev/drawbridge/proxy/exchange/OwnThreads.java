package dev.drawbridge.proxy.exchange;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Makes the proxy's own (daemon) threads and, when the proxy stops, waits until each has really
 * ended. A container checks for threads an application left running as soon as the application's
 * listeners return (Tomcat then warns operators of a likely memory leak), and an executor reports
 * itself terminated a moment before its last thread has exited: awaiting the executor is not enough.
 */
public final class OwnThreads implements ThreadFactory {

  private final String name;
  private final Set<Thread> started = ConcurrentHashMap.newKeySet();

  /** Threads named {@code name}, e.g. {@code drawbridge-reaper}. */
  public OwnThreads(String name) {
    this.name = name;
  }

  @Override
  public Thread newThread(Runnable task) {
    Thread thread = new Thread(task, name);
    thread.setDaemon(true);
    started.add(thread);
    return thread;
  }

  /**
   * Waits until every thread made here has ended (stop their executor first), at most {@code
   * timeout} in all.
   *
   * @return true if none is alive any more
   */
  public boolean awaitEnded(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Thread thread : started) {
      long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (leftMillis <= 0) {
        break;
      }
      thread.join(leftMillis);
    }
    started.removeIf(thread -> !thread.isAlive());
    return started.isEmpty();
  }
}
