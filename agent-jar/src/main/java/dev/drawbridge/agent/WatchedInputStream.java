package dev.drawbridge.agent;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.Consumer;

/**
 * Reports read failures of the request body it wraps. HttpClient turns any failure while sending
 * a request into one exception, so without this the agent would blame the backend for a client's
 * broken upload.
 */
final class WatchedInputStream extends InputStream {

  private final InputStream in;
  private final Consumer<IOException> onFailure;

  WatchedInputStream(InputStream in, Consumer<IOException> onFailure) {
    this.in = in;
    this.onFailure = onFailure;
  }

  @Override
  public int read() throws IOException {
    try {
      return in.read();
    } catch (IOException e) {
      onFailure.accept(e);
      throw e;
    }
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    try {
      return in.read(buffer, offset, length);
    } catch (IOException e) {
      onFailure.accept(e);
      throw e;
    }
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
