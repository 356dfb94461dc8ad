package dev.drawbridge.proxy.web;

import jakarta.servlet.ServletContext;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A small pool of proxy-owned threads that hold no container lock, for work that crosses from one
 * connection to another.
 *
 * <p>Why: Tomcat runs a connection's pending non-blocking I/O callbacks inline, under that
 * connection's lock, on whatever thread calls {@code setWriteListener}, {@code isReady()} or
 * {@code read()} near the end of a body. A callback of connection A that touched connection B's
 * streams could therefore deadlock against a callback of B touching A's. So a container callback
 * touches only its own connection's streams and reaches any other connection through a {@link
 * Lane} (or {@link #execute}) of this pool.
 */
public final class Handoff {

  private static final Logger LOG = Logger.getLogger(Handoff.class.getName());

  /** Servlet context attribute holding the running hand-off pool. */
  static final String ATTRIBUTE = Handoff.class.getName();

  private final ExecutorService threads;

  /** Starts {@code size} threads, named after the pool. */
  public Handoff(int size) {
    AtomicInteger count = new AtomicInteger();
    this.threads =
        new ThreadPoolExecutor(
            size,
            size,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(),
            task -> {
              Thread thread = new Thread(task, "drawbridge-handoff-" + count.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
  }

  /** The pool of a running web application. */
  static Handoff of(ServletContext context) {
    Handoff handoff = (Handoff) context.getAttribute(ATTRIBUTE);
    if (handoff == null) {
      throw new IllegalStateException("Drawbridge did not start; see the startup log");
    }
    return handoff;
  }

  /** A lane that runs {@code work} on this pool whenever it is woken. */
  public Lane lane(Runnable work) {
    return new Lane(this, work);
  }

  /** Runs a one-off task on this pool. */
  public void execute(Runnable task) {
    try {
      threads.execute(() -> runQuietly(task));
    } catch (RejectedExecutionException e) {
      LOG.log(Level.FINE, "Hand-off pool stopped; a task was dropped", e);
    }
  }

  /**
   * Stops the threads once the work already queued ran (the drain's last closings), or after 5 s,
   * when what is left is dropped, as the web application is gone.
   */
  public void stop() {
    threads.shutdown();
    try {
      if (!threads.awaitTermination(5, TimeUnit.SECONDS)) {
        threads.shutdownNow();
        threads.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      threads.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  static void runQuietly(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException | Error e) {
      LOG.log(Level.SEVERE, "A hand-off task failed; the connection it served may hang until its timeout", e);
    }
  }
}
