package dev.drawbridge.proxy.web.agent;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * Writes one prepared body without blocking, then completes the request. It touches only the one
 * response it writes, and the container runs its callbacks one at a time.
 */
final class BytesWriter implements WriteListener {

  private final AsyncContext async;
  private final ServletOutputStream out;
  private final byte[] body;
  private final Consumer<Throwable> onFailure;
  private volatile boolean written;
  private final FinalFlush finalFlush = new FinalFlush();

  private BytesWriter(
      AsyncContext async, ServletOutputStream out, byte[] body, Consumer<Throwable> onFailure) {
    this.async = async;
    this.out = out;
    this.body = body;
    this.onFailure = onFailure;
  }

  /** Starts writing {@code body} to the async response; {@code onFailure} runs if it cannot. */
  static void write(AsyncContext async, byte[] body, Consumer<Throwable> onFailure)
      throws IOException {
    ServletOutputStream out = async.getResponse().getOutputStream();
    out.setWriteListener(new BytesWriter(async, out, body, onFailure));
  }

  @Override
  public void onWritePossible() throws IOException {
    if (!written) {
      written = true;
      out.write(body);
    }
    if (finalFlush.done(out)) {
      async.complete();
    }
  }

  @Override
  public void onError(Throwable failure) {
    onFailure.accept(failure);
    try {
      async.complete();
    } catch (IllegalStateException e) {
      // Already completed by the container.
    }
  }
}
