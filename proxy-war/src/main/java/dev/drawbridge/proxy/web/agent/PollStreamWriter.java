package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.protocol.Protocol;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Writes the answers of a streamed poll without blocking, one at a time, each as soon as it is
 * given. Like {@link PollAnswerWriter} it is the response's write listener from the start, and the
 * answer and the container's readiness meet under this object's monitor; whichever comes second
 * writes. An answer counts as written once the container took all of it ({@code isReady()} true
 * after a flush); only then may the next be given.
 */
final class PollStreamWriter implements WriteListener {

  private final AsyncContext async;
  private final ServletOutputStream out;
  private final Runnable unanswered;
  private final AtomicBoolean completed = new AtomicBoolean();
  /** The answer waiting to be written, or null; guarded by this. */
  private byte[] unit;
  /** True when the stream ends after {@link #unit} (which may be empty); guarded by this. */
  private boolean last;
  private Runnable written;
  /** Runs when the current answer cannot be written; guarded by this. */
  private Consumer<Throwable> onFailure;
  /** The container can take bytes now; guarded by this. */
  private boolean writable;
  private static final int WRITE = 0;
  private static final int FLUSH = 1;
  private static final int SETTLE = 2;
  /** Where the current answer is: to be written, to be flushed, or flushed and waiting for the socket. */
  private volatile int stage = WRITE;
  /** The connection failed while no answer was being written; guarded by this. */
  private Throwable failedEarly;
  private boolean headSent;

  PollStreamWriter(AsyncContext async, Runnable unanswered) throws IOException {
    this.async = async;
    this.unanswered = unanswered;
    this.out = async.getResponse().getOutputStream();
    out.setWriteListener(this);
  }

  /**
   * Writes {@code answer} (empty for none), then runs {@code written}, or completes the response
   * when {@code endsStream}. {@code onFailure} runs instead if the answer cannot be written.
   */
  void send(byte[] answer, boolean endsStream, Runnable written, Consumer<Throwable> onFailure) {
    boolean now;
    Throwable failure;
    synchronized (this) {
      this.unit = answer;
      this.last = endsStream;
      this.written = written;
      this.onFailure = onFailure;
      now = writable;
      writable = false;
      failure = failedEarly;
    }
    if (failure != null) {
      onError(failure);
    } else if (now) {
      pumpOrFail();
    }
  }

  @Override
  public void onWritePossible() throws IOException {
    synchronized (this) {
      if (unit == null) {
        writable = true;
        return;
      }
    }
    pump();
  }

  private void pumpOrFail() {
    try {
      pump();
    } catch (IOException | IllegalStateException e) {
      onError(e);
    }
  }

  private void pump() throws IOException {
    byte[] bytes;
    synchronized (this) {
      bytes = unit;
    }
    if (stage == WRITE) {
      if (!headSent) {
        headSent = true;
        HttpServletResponse response = (HttpServletResponse) async.getResponse();
        response.setStatus(200);
        response.setContentType(Protocol.POLL_STREAM_TYPE);
        response.setHeader("Cache-Control", "no-store");
        // nginx passes such a response on as it comes instead of collecting it first.
        response.setHeader("X-Accel-Buffering", "no");
        response.setHeader(Protocol.PROXY_VERSION_HEADER, Protocol.SOFTWARE_VERSION);
      }
      stage = FLUSH;
      if (bytes.length > 0) {
        out.write(bytes);
      }
      if (!out.isReady()) {
        return;
      }
    }
    if (stage == FLUSH) {
      stage = SETTLE;
      out.flush();
    }
    if (!out.isReady()) {
      return;
    }
    stage = WRITE;
    Runnable next;
    boolean ends;
    synchronized (this) {
      unit = null;
      next = written;
      ends = last;
      written = null;
      onFailure = null;
      writable = !ends;
    }
    if (ends) {
      if (completed.compareAndSet(false, true)) {
        async.complete();
      }
    } else {
      next.run();
    }
  }

  @Override
  public void onError(Throwable failure) {
    Consumer<Throwable> failed;
    synchronized (this) {
      if (completed.get()) {
        return;
      }
      failed = onFailure;
      onFailure = null;
      if (failed == null) {
        failedEarly = failure;
      }
    }
    if (failed == null) {
      unanswered.run();
      return;
    }
    failed.accept(failure);
    if (completed.compareAndSet(false, true)) {
      try {
        async.complete();
      } catch (IllegalStateException e) {
        // Already completed by the container.
      }
    }
  }
}
