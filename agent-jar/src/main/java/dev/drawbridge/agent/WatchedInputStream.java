package dev.drawbridge.agent;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.Consumer;

/**
 * The request body as the backend leg reads it. Reports read failures of the body it wraps:
 * HttpClient turns any failure while sending a request into one exception, so without this the
 * agent would blame the backend for a client's broken upload.
 *
 * <p>Closing it leaves the wrapped body open. HttpClient closes a body as soon as it stops sending
 * it, also when the backend answered before reading it all; closing the proxy's body stream then
 * would read the rest of the client's upload before the answer could go back, and a client that
 * waits for that answer before sending more would wait for ever. The exchange closes the body
 * itself once the answer is on its way.
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
  public void close() {
    // Left to the exchange; see the class comment.
  }
}
