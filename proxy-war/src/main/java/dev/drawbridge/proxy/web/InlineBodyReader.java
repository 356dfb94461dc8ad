package dev.drawbridge.proxy.web;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Reads a small request body of known length without blocking, so it can travel inside the poll
 * answer and spare the agent a round trip.
 */
final class InlineBodyReader implements ReadListener {

  private final ServletInputStream in;
  private final byte[] body;
  private final Consumer<byte[]> onBody;
  private final Consumer<Throwable> onFailure;
  private int filled;

  InlineBodyReader(
      ServletInputStream in, int length, Consumer<byte[]> onBody, Consumer<Throwable> onFailure) {
    this.in = in;
    this.body = new byte[length];
    this.onBody = onBody;
    this.onFailure = onFailure;
  }

  @Override
  public void onDataAvailable() throws IOException {
    while (!in.isFinished() && in.isReady()) {
      if (filled == body.length) {
        throw new IOException("The request body is longer than its Content-Length.");
      }
      int n = in.read(body, filled, body.length - filled);
      if (n < 0) {
        break;
      }
      filled += n;
    }
  }

  @Override
  public void onAllDataRead() {
    onBody.accept(filled == body.length ? body : Arrays.copyOf(body, filled));
  }

  @Override
  public void onError(Throwable failure) {
    onFailure.accept(failure);
  }
}
