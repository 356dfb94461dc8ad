package dev.drawbridge.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * Blocking reader of a framed body: yields the data bytes, ends at the end frame, and throws when
 * the stream was aborted or cut short, so a truncated body never looks complete.
 */
public final class FramedInputStream extends InputStream {

  private final InputStream in;
  private final FrameReader reader = new FrameReader(false);
  private final ByteBuffer buffer;
  private int dataOffset;
  private int dataRemaining;
  private boolean ended;

  public FramedInputStream(InputStream in, int bufferSize) {
    this.in = in;
    this.buffer = ByteBuffer.allocate(bufferSize);
    buffer.flip();
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xFF;
  }

  @Override
  public int read(byte[] target, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    while (dataRemaining == 0) {
      if (ended) {
        return -1;
      }
      advance();
    }
    int n = Math.min(length, dataRemaining);
    System.arraycopy(buffer.array(), dataOffset, target, offset, n);
    dataOffset += n;
    dataRemaining -= n;
    return n;
  }

  private void advance() throws IOException {
    FrameReader.Event event = reader.next(buffer);
    switch (event) {
      case DATA:
        dataOffset = reader.dataOffset();
        dataRemaining = reader.dataLength();
        return;
      case END:
        ended = true;
        return;
      case ABORT:
        throw new IOException("sender aborted the body: " + reader.abortReason());
      case NEED_MORE:
        fill();
        return;
      default:
        throw new FrameException("unexpected " + event + " frame in a body");
    }
  }

  private void fill() throws IOException {
    buffer.clear();
    int n = in.read(buffer.array(), 0, buffer.capacity());
    if (n < 0) {
      buffer.limit(0);
      throw new EOFException("body stream ended before its end frame");
    }
    buffer.limit(n);
  }

  /**
   * Closes the stream it wraps, reading what is left of it first in pieces of this stream's
   * buffer. An HTTP client's body stream skips its rest on close so that its connection can be
   * reused, and does so in small pieces: a backend that answers before it read an upload has the
   * rest of the upload pass here, so this takes it in as few reads as the buffer allows.
   */
  @Override
  public void close() throws IOException {
    try {
      while (in.read(buffer.array(), 0, buffer.capacity()) >= 0) {
        // Discarded: the body's reader is done with it.
      }
    } catch (IOException e) {
      // The wrapped stream's own close decides what a broken rest means.
    }
    ended = true;
    dataRemaining = 0;
    in.close();
  }
}
