package dev.drawbridge.proxy.web;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/** Reads a stream into a heap buffer that its owner keeps ready for reading. */
public final class BufferReads {

  private BufferReads() {}

  /**
   * Reads what {@code in} gives into the free space of {@code buffer}, which is flipped (ready for
   * reading) before and after; bytes not yet consumed stay in front. Returns the stream's count:
   * the bytes added, or -1 at its end.
   */
  public static int readInto(InputStream in, ByteBuffer buffer) throws IOException {
    buffer.compact();
    int n = in.read(buffer.array(), buffer.position(), buffer.remaining());
    if (n > 0) {
      buffer.position(buffer.position() + n);
    }
    buffer.flip();
    return n;
  }
}
