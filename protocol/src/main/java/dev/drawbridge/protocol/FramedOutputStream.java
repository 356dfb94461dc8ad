package dev.drawbridge.protocol;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Blocking writer of a framed stream. Each {@link #write(byte[], int, int)} becomes data frames;
 * {@link #finish()} writes the end frame and {@link #abort(String)} the abort frame. Closing without
 * either leaves the stream cut short, which the reader treats as a failure.
 */
public final class FramedOutputStream extends OutputStream {

  private static final byte[] KEEPALIVE = Frames.keepalive();

  private final OutputStream out;
  private final byte[] header = new byte[Frames.HEADER_LENGTH];
  private boolean finished;

  public FramedOutputStream(OutputStream out) {
    this.out = out;
  }

  /** Writes the head frame; call once, before any data. */
  public void writeHead(byte[] headJson) throws IOException {
    if (headJson.length > Frames.MAX_HEAD) {
      throw new FrameException("head of " + headJson.length + " bytes exceeds " + Frames.MAX_HEAD);
    }
    writeFrame(Frames.HEAD, headJson, 0, headJson.length);
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] data, int offset, int length) throws IOException {
    while (length > 0) {
      int n = Math.min(length, Frames.MAX_PAYLOAD);
      writeFrame(Frames.DATA, data, offset, n);
      offset += n;
      length -= n;
    }
  }

  /** Writes a keepalive frame: nothing to carry yet (see {@link Frames#KEEPALIVE}). */
  public void keepalive() throws IOException {
    checkOpen();
    out.write(KEEPALIVE);
  }

  /** Writes the end frame: the body is complete. */
  public void finish() throws IOException {
    checkOpen();
    finished = true;
    out.write(Frames.end());
  }

  /** Writes the abort frame: the body is incomplete for {@code reason}. */
  public void abort(String reason) throws IOException {
    checkOpen();
    finished = true;
    out.write(Frames.abort(reason));
  }

  private void writeFrame(byte type, byte[] data, int offset, int length) throws IOException {
    checkOpen();
    Frames.putHeader(header, 0, type, length);
    out.write(header);
    out.write(data, offset, length);
  }

  private void checkOpen() throws IOException {
    if (finished) {
      throw new IOException("framed stream already finished");
    }
  }

  @Override
  public void flush() throws IOException {
    out.flush();
  }

  @Override
  public void close() throws IOException {
    out.close();
  }
}
