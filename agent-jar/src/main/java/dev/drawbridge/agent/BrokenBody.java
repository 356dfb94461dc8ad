package dev.drawbridge.agent;

import java.io.IOException;
import java.io.InputStream;

/** The part of a backend body that arrived before the connection broke, then that failure again. */
final class BrokenBody extends InputStream {

  private final byte[] received;
  private final int length;
  private final IOException failure;
  private int position;

  BrokenBody(byte[] received, int length, IOException failure) {
    this.received = received;
    this.length = length;
    this.failure = failure;
  }

  @Override
  public int read() throws IOException {
    if (position < length) {
      return received[position++] & 0xFF;
    }
    throw failure;
  }

  @Override
  public int read(byte[] target, int offset, int count) throws IOException {
    if (count == 0) {
      return 0;
    }
    if (position < length) {
      int n = Math.min(count, length - position);
      System.arraycopy(received, position, target, offset, n);
      position += n;
      return n;
    }
    throw failure;
  }
}
