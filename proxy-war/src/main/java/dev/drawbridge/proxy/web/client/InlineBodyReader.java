package dev.drawbridge.proxy.web.client;

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
  private final byte[] overflow = new byte[1];
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
    // Containers differ on when a complete body reports isFinished(): Jetty only after reading
    // the end of stream, Tomcat as soon as Content-Length bytes were read. Read until -1 either way.
    while (in.isReady()) {
      int n =
          filled < body.length ? in.read(body, filled, body.length - filled) : in.read(overflow);
      if (n < 0) {
        return;
      }
      if (filled == body.length && n > 0) {
        throw new IOException("The request body is longer than its Content-Length.");
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
