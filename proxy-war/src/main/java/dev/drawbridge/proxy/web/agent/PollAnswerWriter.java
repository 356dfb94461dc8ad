package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Writes a held poll's answer without blocking, then completes the poll. It is the poll's write
 * listener from the start, set while the poll is still in {@code service()}: by the time an answer
 * comes, the container has already said that the response can take bytes, so the thread with the
 * answer writes it at once. A listener set only then would make the container pass the first write
 * to another of its threads, one more thread to wake on every request's way to the agent.
 *
 * <p>The answer and the container's readiness meet under this object's monitor, which guards only
 * that state; the I/O runs outside it. Whichever of the two comes second writes. After the writing
 * thread saw {@code isReady()} answer false, only the container's next {@link #onWritePossible}
 * goes on, so at most one thread writes at a time. It touches only the poll's own response.
 */
final class PollAnswerWriter implements WriteListener {

  private final AsyncContext async;
  private final ServletOutputStream out;
  /** Runs when the poll's connection fails before the poll was answered. */
  private final Runnable unanswered;
  private final FinalFlush finalFlush = new FinalFlush();
  /** The answer, once given; guarded by this. */
  private byte[] body;
  /** Runs when the answer cannot be written; guarded by this. */
  private Consumer<Throwable> onFailure;
  /** The container said the response can take bytes and nobody wrote since; guarded by this. */
  private boolean writable;
  /** The connection failed before the answer came; guarded by this. */
  private Throwable failedEarly;
  private volatile boolean written;
  /** Set by whichever call completes the poll, in case the container calls back inside our own I/O. */
  private final AtomicBoolean completed = new AtomicBoolean();

  /** Becomes the write listener of {@code async}'s response; call from the poll's {@code service()}. */
  PollAnswerWriter(AsyncContext async, Runnable unanswered) throws IOException {
    this.async = async;
    this.unanswered = unanswered;
    this.out = async.getResponse().getOutputStream();
    out.setWriteListener(this);
  }

  /**
   * Writes {@code body} as the poll's answer, now when the container already said the response can
   * take it, else from the container's next {@link #onWritePossible}. {@code onFailure} runs if it
   * cannot be written. Called once, on the poll's own thread or a hand-off thread.
   */
  void answer(byte[] body, Consumer<Throwable> onFailure) {
    boolean now;
    Throwable failure;
    synchronized (this) {
      this.body = body;
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
      if (body == null) {
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
    if (!written) {
      written = true;
      Responses.agentJsonHead((HttpServletResponse) async.getResponse(), body.length);
      out.write(body);
    }
    if (finalFlush.done(out) && completed.compareAndSet(false, true)) {
      synchronized (this) {
        // Written: a failure of the connection from now on no longer concerns the answer.
        onFailure = null;
      }
      async.complete();
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
        // An answer on its way finds this and fails its exchanges itself.
        failedEarly = failure;
      }
    }
    if (failed == null) {
      unanswered.run();
      return;
    }
    failed.accept(failure);
    try {
      async.complete();
    } catch (IllegalStateException e) {
      // Already completed by the container.
    }
  }
}
