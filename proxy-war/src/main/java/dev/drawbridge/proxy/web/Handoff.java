package dev.drawbridge.proxy.web;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The threads that carry work from one connection to another.
 *
 * <h2>The hand-off rule</h2>
 *
 * A servlet container may run a connection's pending non-blocking I/O callbacks inline, on the
 * calling thread and under that connection's lock, when a thread that is not serving the
 * connection touches its streams: Tomcat does so for {@code setWriteListener}, {@code
 * setReadListener}, and for {@code isReady()} and {@code read()} at the end of a request body.
 * A thread that serves connection A (in {@code service()}, a read or write listener, or an async
 * listener, all of which hold A's lock on Tomcat) and touches connection B can therefore wait for
 * B's lock while B's thread, doing the reverse, waits for A's. That deadlock happened.
 *
 * <ol>
 *   <li>Code that runs for one connection touches another connection's request, response or
 *       streams only by handing the work to a {@link Lane} (or {@link #execute}). It never calls
 *       the other connection's servlet objects itself, and never waits for a hand-off.
 *   <li>A lane runs on these threads, which hold no container lock when a task starts. Inside a
 *       task a container may take the lock of the one connection the task touches, and may run
 *       that connection's callbacks inline; those callbacks only wake lanes (rule 1), so a
 *       hand-off thread never holds two connections' locks, and never waits for one while
 *       holding anything of ours. Where Tomcat's threads read an upgraded connection's stream
 *       themselves, the lane takes that connection's lock explicitly for each read ({@link
 *       dev.drawbridge.proxy.web.client.TomcatSocket}): still the one connection the task
 *       touches.
 *   <li>No code holds one of our own monitors while it calls servlet I/O ({@code read}, {@code
 *       write}, {@code flush}, {@code isReady}, {@code setReadListener}, {@code setWriteListener},
 *       {@code complete}, {@code dispatch}): the monitors guard state only. The one exception is a
 *       request's {@link CallGuard}, which a lane holds around its I/O on that request so that the
 *       container cannot end and recycle the request under it; the container's thread waits for
 *       it only for a bounded time, so it adds no cycle either.
 * </ol>
 *
 * The lock order is therefore: a container thread holds at most its own connection's lock; a
 * hand-off thread holds at most the lock of the connection its task touches. No thread waits for a
 * second connection's lock while holding one, so no cycle can form, whichever container runs it
 * (Tomcat runs the callbacks inline, Jetty and Undertow dispatch them; both are covered).
 *
 * <p>The pool belongs to the web application: it starts with it and stops after the tunnel has
 * drained, so no thread outlives an undeploy.
 */
public final class Handoff implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(Handoff.class.getName());

  /** How long an undeploy waits for hand-offs still running before it interrupts them. */
  private static final long STOP_WAIT_MILLIS = 5_000;

  private final ThreadPoolExecutor pool;
  /** Every thread the pool started, so that {@link #close} can wait until each has ended. */
  private final List<Thread> startedThreads = new CopyOnWriteArrayList<>();

  /**
   * Starts {@code threads} hand-off threads. Tasks are short and never block for long (a hand-off
   * thread may wait briefly for a connection's lock while the container runs that connection), so
   * a few threads serve any number of connections.
   */
  public Handoff(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1: " + threads);
    }
    AtomicInteger number = new AtomicInteger();
    ThreadFactory factory =
        task -> {
          Thread thread = new Thread(task, "drawbridge-handoff-" + number.incrementAndGet());
          thread.setDaemon(true);
          startedThreads.add(thread);
          return thread;
        };
    this.pool =
        new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), factory);
    pool.prestartAllCoreThreads();
  }

  /** A pool sized for this machine: two threads per core, at least four. */
  public static Handoff forThisMachine() {
    return new Handoff(Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));
  }

  /** A new serial lane whose {@link Lane#wake} runs {@code work}. */
  public Lane lane(Runnable work) {
    return new Lane(this::execute, work);
  }

  /** A new serial lane for tasks given to {@link Lane#execute}. */
  public Lane lane() {
    return new Lane(this::execute, null);
  }

  /**
   * Runs {@code task} on a hand-off thread. Once the pool stopped (the application is being
   * undeployed, its connections are ending), the task runs on the calling thread instead, which
   * then is the undeploying thread or a container thread finishing its own connection.
   */
  public void execute(Runnable task) {
    try {
      pool.execute(task);
    } catch (RejectedExecutionException e) {
      task.run();
    }
  }

  /**
   * Stops the threads once the tasks handed over so far ran, waiting a bounded time until each
   * thread has ended, not only the pool: a terminated pool's threads may still be exiting, and
   * Tomcat looks for threads the application left running as soon as the undeploy's listeners return.
   */
  @Override
  public void close() {
    pool.shutdown();
    try {
      if (!pool.awaitTermination(STOP_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
        LOG.warning("Hand-off threads still busy after " + STOP_WAIT_MILLIS + " ms at undeploy; interrupting them");
        pool.shutdownNow();
        pool.awaitTermination(STOP_WAIT_MILLIS, TimeUnit.MILLISECONDS);
      }
      // A terminated pool's threads may still be exiting, and a container looks for threads the
      // application left as soon as the undeploy's listeners return.
      for (Thread thread : startedThreads) {
        thread.join(STOP_WAIT_MILLIS);
      }
    } catch (InterruptedException e) {
      pool.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** Runs a task, keeping a failure in it from ending the thread or the lane. */
  static void runGuarded(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException | Error e) {
      LOG.log(Level.WARNING, "A hand-off task failed; the connection it served may be left to its timeout", e);
    }
  }
}
