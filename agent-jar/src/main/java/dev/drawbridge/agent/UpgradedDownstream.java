package dev.drawbridge.agent;

import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.ResponseHead;
import dev.drawbridge.protocol.WireJson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Set;
import org.apache.hc.core5.http.nio.AsyncEntityProducer;
import org.apache.hc.core5.http.nio.DataStreamChannel;

/**
 * The body of an upgraded connection's response call, which carries the backend's bytes to the
 * proxy: the head frame, then one data frame at a time as the {@link UpgradeLoop} reads the
 * backend, then the end (or abort) frame. Written on the HTTP client's I/O thread.
 */
final class UpgradedDownstream implements AsyncEntityProducer {

  private static final byte[] KEEPALIVE = Frames.keepalive();

  private final ArrayDeque<ByteBuffer> frames = new ArrayDeque<>();
  private final Runnable onDrained;
  private DataStreamChannel channel;
  private boolean finishing;
  private boolean ended;
  private boolean headSent;

  /**
   * Starts with the 101 head frame and, when the backend sent bytes right after its head, their
   * data frame.
   *
   * @param onDrained run (on the HTTP client's I/O thread) each time the call took every queued
   *     frame, so the backend may be read again
   */
  UpgradedDownstream(ResponseHead switchHead, byte[] leftover, Runnable onDrained) {
    this.onDrained = onDrained;
    frames.add(ByteBuffer.wrap(Frames.frame(Frames.HEAD, WireJson.write(switchHead))));
    if (leftover.length > 0) {
      frames.add(dataFrame(ByteBuffer.wrap(leftover)));
    }
  }

  /** A data frame carrying {@code data}'s remaining bytes. */
  static ByteBuffer dataFrame(ByteBuffer data) {
    byte[] frame = new byte[Frames.HEADER_LENGTH + data.remaining()];
    Frames.putHeader(frame, 0, Frames.DATA, data.remaining());
    data.get(frame, Frames.HEADER_LENGTH, data.remaining());
    return ByteBuffer.wrap(frame);
  }

  /** True when no data frame waits: the loop may read the backend. */
  synchronized boolean isIdle() {
    return frames.isEmpty() && !finishing;
  }

  synchronized boolean headSent() {
    return headSent;
  }

  void offer(ByteBuffer frame) {
    queue(frame, false, false);
  }

  /**
   * Queues a keepalive frame, unless a frame waits already (it carries the call anyway) or the call
   * is ending. From any thread.
   */
  void offerKeepalive() {
    queue(ByteBuffer.wrap(KEEPALIVE), false, true);
  }

  /** Queues the last frame; the call ends once it is sent. */
  void finish(ByteBuffer lastFrame) {
    queue(lastFrame, true, false);
  }

  /** Queues {@code frame} unless the call is ending, or ({@code onlyIfEmpty}) a frame waits. */
  private void queue(ByteBuffer frame, boolean last, boolean onlyIfEmpty) {
    DataStreamChannel wake;
    synchronized (this) {
      if (finishing || onlyIfEmpty && !frames.isEmpty()) {
        return;
      }
      finishing = last;
      frames.add(frame);
      wake = channel;
    }
    if (wake != null) {
      wake.requestOutput();
    }
  }

  @Override
  public synchronized int available() {
    int bytes = 0;
    for (ByteBuffer frame : frames) {
      bytes += frame.remaining();
    }
    return bytes;
  }

  @Override
  public void produce(DataStreamChannel output) throws IOException {
    boolean drained;
    synchronized (this) {
      channel = output;
      if (ended) {
        return;
      }
      boolean wroteSome = false;
      while (!frames.isEmpty()) {
        ByteBuffer next = frames.peek();
        output.write(next);
        if (next.hasRemaining()) {
          break;
        }
        frames.poll();
        headSent = true;
        wroteSome = true;
      }
      drained = wroteSome && frames.isEmpty();
      if (drained && finishing) {
        ended = true;
        output.endStream();
        return;
      }
    }
    if (drained) {
      onDrained.run();
    }
  }

  @Override
  public boolean isRepeatable() {
    return false;
  }

  @Override
  public void failed(Exception cause) {
    // The call's callback reports it.
  }

  @Override
  public long getContentLength() {
    return -1;
  }

  @Override
  public String getContentType() {
    return Protocol.FRAMES_TYPE;
  }

  @Override
  public String getContentEncoding() {
    return null;
  }

  @Override
  public boolean isChunked() {
    return true;
  }

  @Override
  public Set<String> getTrailerNames() {
    return null;
  }

  @Override
  public void releaseResources() {
    // The backend channel is the connection's, closed by it.
  }
}
