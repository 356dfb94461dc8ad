package dev.drawbridge.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Iterator;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one thread that moves the bytes of every upgraded connection on the backend side: a selector
 * over their backend channels, and a queue of tasks that the HTTP client's I/O threads hand over,
 * so that each connection's state is touched by this thread only.
 */
final class UpgradeLoop implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(UpgradeLoop.class.getName());

  /** Bytes read from a backend at once; copied out at their exact size before the next read. */
  private static final int READ_BUFFER = 16 * 1024;

  /** What a registered channel's attachment does when the channel is ready. */
  interface Handler {
    void ready(SelectionKey key);
  }

  private final Selector selector;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_BUFFER);
  private final Thread thread;
  private volatile boolean stopping;
  private volatile boolean stopped;

  UpgradeLoop(String name) {
    try {
      this.selector = Selector.open();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open a selector", e);
    }
    this.thread = new Thread(this::run, name);
    thread.setDaemon(true);
    thread.start();
  }

  /** Runs {@code task} on the loop's thread; at once on the caller's when the loop has stopped. */
  void execute(Runnable task) {
    if (stopped) {
      runSafely(task);
      return;
    }
    tasks.add(task);
    selector.wakeup();
    if (stopped && tasks.remove(task)) {
      runSafely(task);
    }
  }

  /** Registers {@code channel}; on the loop's thread only. */
  SelectionKey register(SelectableChannel channel, int interest, Handler handler) throws ClosedChannelException {
    return channel.register(selector, interest, handler);
  }

  /** A buffer to read into, shared by every connection; on the loop's thread only. */
  ByteBuffer readBuffer() {
    return readBuffer.clear();
  }

  private void run() {
    try {
      while (!stopping) {
        runTasks();
        selector.select();
        Iterator<SelectionKey> ready = selector.selectedKeys().iterator();
        while (ready.hasNext()) {
          SelectionKey key = ready.next();
          ready.remove();
          if (key.isValid()) {
            Handler handler = (Handler) key.attachment();
            runSafely(() -> handler.ready(key));
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.SEVERE, "The loop of upgraded connections failed", e);
    } finally {
      stopped = true;
      runTasks();
      try {
        selector.close();
      } catch (IOException ignored) {
        // Stopping anyway.
      }
    }
  }

  private void runTasks() {
    Runnable task;
    while ((task = tasks.poll()) != null) {
      runSafely(task);
    }
  }

  private static void runSafely(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      LOG.log(Level.SEVERE, "An upgraded connection's task failed", e);
    }
  }

  /** Stops the thread once the tasks queued so far ran; waits up to a second for it. */
  @Override
  public void close() {
    stopping = true;
    selector.wakeup();
    try {
      thread.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
