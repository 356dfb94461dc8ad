package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Writes a held poll's answer without blocking, or a streamed poll's answers one at a time, each
 * as soon as it is given, then completes the poll. It is the poll's write listener from the start,
 * set while the poll is still in {@code service()}: by the time an answer comes, the container has
 * already said that the response can take bytes, so the thread with the answer writes it at once.
 * A listener set only then would make the container pass the first write to another of its
 * threads, one more thread to wake on every request's way to the agent.
 *
 * <p>The answer and the container's readiness meet under this object's monitor, which guards only
 * that state; the I/O runs outside it. Whichever of the two comes second writes. After the writing
 * thread saw {@code isReady()} answer false, only the container's next {@link #onWritePossible}
 * goes on, so at most one thread writes at a time. An answer counts as written once the container
 * handed all of it to the socket ({@code isReady()} true after a flush); only then may the next be
 * given, and only then is the last one's request completed: Tomcat cannot finish a request whose
 * last bytes are still pending when the peer resets the connection (see {@link FinalFlush}).
 */
final class PollWriter implements WriteListener {

  private static final int WRITE = 0;
  private static final int FLUSH = 1;
  private static final int SETTLE = 2;

  private final AsyncContext async;
  private final ServletOutputStream out;
  /** True for a streamed poll's answers, false for a plain poll's one. */
  private final boolean streamed;
  /** Runs when the poll's connection fails before the poll was answered. */
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
  /** Where the current answer is: to be written, to be flushed, or flushed and waiting for the socket. */
  private volatile int stage = WRITE;
  /** The connection failed: nothing more is written; guarded by this. */
  private Throwable failedEarly;
  private boolean headSent;

  /**
   * Becomes the write listener of {@code async}'s response; call from the poll's {@code service()}.
   *
   * @param streamed true for a streamed poll, whose answers go out as {@link
   *     dev.drawbridge.protocol.PollUnits}; false for a plain poll's single JSON answer
   */
  PollWriter(AsyncContext async, boolean streamed, Runnable unanswered) throws IOException {
    this.async = async;
    this.streamed = streamed;
    this.unanswered = unanswered;
    this.out = async.getResponse().getOutputStream();
    out.setWriteListener(this);
  }

  /**
   * Writes {@code answer}, then runs {@code written}, or completes the response when {@code
   * endsStream} (always for a plain poll). {@code onFailure} runs instead if the answer cannot be
   * written. Called on the poll's own thread or a hand-off thread, once the previous answer was
   * written.
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
    } catch (IOException | RuntimeException e) {
      // Besides I/O errors: a container that is ending the connection on its own thread may recycle
      // the response under a write from here (Tomcat then throws a NullPointerException).
      onError(e);
    }
  }

  private void pump() throws IOException {
    byte[] bytes;
    synchronized (this) {
      bytes = unit;
      if (failedEarly != null) {
        throw new IOException("The poll's connection ended", failedEarly);
      }
    }
    if (stage == WRITE) {
      if (!headSent) {
        headSent = true;
        HttpServletResponse response = (HttpServletResponse) async.getResponse();
        if (streamed) {
          response.setStatus(200);
          response.setContentType(Protocol.POLL_STREAM_TYPE);
          response.setHeader("Cache-Control", "no-store");
          // Tells nginx not to collect the stream before passing it on.
          response.setHeader("X-Accel-Buffering", "no");
          response.setHeader(Protocol.PROXY_VERSION_HEADER, Protocol.SOFTWARE_VERSION);
        } else {
          Responses.agentJsonHead(response, bytes.length);
        }
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
      // Whatever comes later finds it and writes nothing.
      if (failedEarly == null) {
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
