package dev.drawbridge.proxy.web;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Asks a non-blocking input {@code isReady()} for a {@link Lane}, and not again after it answered
 * false until the container announced bytes ({@code onDataAvailable}) or the end
 * ({@code onAllDataRead}). The Servlet API promises that announcement after a false, so asking
 * again earlier only repeats the question. On Undertow (WildFly) it does harm: each {@code
 * isReady()} that answers false re-arms reads from the lane's thread, and one that lands while the
 * connection's I/O thread is filling the stream's buffer leaves reads armed with bytes waiting in
 * it; the next read event then has two threads reading one channel into that buffer, and bytes can
 * be lost. Tomcat and Jetty only see fewer calls.
 *
 * <p>The input's read listener is set through {@link #announcing}, which counts the container's
 * announcements; only the lane calls {@link #isReady}.
 */
public final class ReadReadiness {

  private final AtomicLong announcements = new AtomicLong();
  /** The announcement count when {@code isReady()} last answered false; -1 after a true. Lane only. */
  private long falseAt = -1;

  /** The container announced bytes or the end of the input: the next {@link #isReady} asks again. */
  void announced() {
    announcements.incrementAndGet();
  }

  /** {@code listener}, with each announcement counted before it runs. */
  public ReadListener announcing(ReadListener listener) {
    return new ReadListener() {
      @Override
      public void onDataAvailable() throws IOException {
        announced();
        listener.onDataAvailable();
      }

      @Override
      public void onAllDataRead() throws IOException {
        announced();
        listener.onAllDataRead();
      }

      @Override
      public void onError(Throwable failure) {
        listener.onError(failure);
      }
    };
  }

  /**
   * {@code in.isReady()}, or false without asking when it answered false before and nothing was
   * announced since (the announcement wakes the lane, which then asks).
   */
  public boolean isReady(ServletInputStream in) {
    long now = announcements.get();
    if (falseAt == now) {
      return false;
    }
    if (in.isReady()) {
      falseAt = -1;
      return true;
    }
    falseAt = now;
    return false;
  }
}
