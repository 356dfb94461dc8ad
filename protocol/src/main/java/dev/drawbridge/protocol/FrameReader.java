package dev.drawbridge.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Incremental decoder of a framed stream, for callers that read without blocking.
 *
 * <p>Each {@link #next(ByteBuffer)} consumes as much of the buffer as one event needs. Data is not
 * copied: a {@link Event#DATA} event names a region of the buffer's backing array ({@link
 * #dataOffset()}, {@link #dataLength()}) that stays valid until the caller reuses the buffer. One
 * data frame may arrive as several DATA events. Head and abort payloads are collected whole (they
 * are small and bounded). Keepalive frames are consumed without an event.
 */
public final class FrameReader {

  /** What {@link #next(ByteBuffer)} found. */
  public enum Event {
    /** A head frame is complete: see {@link #head()}. */
    HEAD,
    /** Body bytes: see {@link #dataOffset()} and {@link #dataLength()}. */
    DATA,
    /** The stream ended normally. */
    END,
    /** The sender aborted: see {@link #abortReason()}. */
    ABORT,
    /** A whole response of a batch: see {@link #response()}. */
    RESPONSE,
    /** The buffer holds no complete event; read more and call again. */
    NEED_MORE
  }

  private final boolean headExpected;
  private final boolean batch;
  private final byte[] header = new byte[Frames.HEADER_LENGTH];
  private int headerFilled;
  private byte type;
  private int remaining;
  private byte[] collected;
  private int collectedFilled;
  private boolean headSeen;
  private boolean finished;
  private int dataOffset;
  private int dataLength;
  private String abortReason;

  /**
   * @param headExpected true when the stream must start with a head frame (responses), false when it
   *     has none (request bodies)
   */
  public FrameReader(boolean headExpected) {
    this(headExpected, false);
  }

  private FrameReader(boolean headExpected, boolean batch) {
    this.headExpected = headExpected;
    this.batch = batch;
  }

  /** A reader of a batch: response frames, then an end frame. */
  public static FrameReader forBatch() {
    return new FrameReader(false, true);
  }

  /**
   * Decodes the next event from {@code in}, which must be backed by an array.
   *
   * @throws FrameException when the stream breaks the framing rules
   */
  public Event next(ByteBuffer in) throws FrameException {
    while (true) {
      Event event = step(in);
      if (event != null) {
        return event;
      }
    }
  }

  /** Decodes one frame's worth from {@code in}: its event, or null after a keepalive frame. */
  private Event step(ByteBuffer in) throws FrameException {
    if (finished) {
      if (in.hasRemaining()) {
        throw new FrameException("bytes after the end of the stream");
      }
      return Event.NEED_MORE;
    }
    if (headerFilled < Frames.HEADER_LENGTH) {
      if (!readHeader(in)) {
        return Event.NEED_MORE;
      }
      if (remaining == 0) {
        return complete();
      }
    }
    if (type == Frames.DATA) {
      if (!in.hasRemaining()) {
        return Event.NEED_MORE;
      }
      int length = Math.min(remaining, in.remaining());
      dataOffset = in.arrayOffset() + in.position();
      dataLength = length;
      in.position(in.position() + length);
      remaining -= length;
      if (remaining == 0) {
        headerFilled = 0;
      }
      return Event.DATA;
    }
    int length = Math.min(remaining, in.remaining());
    in.get(collected, collectedFilled, length);
    collectedFilled += length;
    remaining -= length;
    return remaining == 0 ? complete() : Event.NEED_MORE;
  }

  private boolean readHeader(ByteBuffer in) throws FrameException {
    while (headerFilled < Frames.HEADER_LENGTH && in.hasRemaining()) {
      header[headerFilled++] = in.get();
    }
    if (headerFilled < Frames.HEADER_LENGTH) {
      return false;
    }
    type = header[0];
    long length =
        ((header[1] & 0xFFL) << 24)
            | ((header[2] & 0xFF) << 16)
            | ((header[3] & 0xFF) << 8)
            | (header[4] & 0xFF);
    int max = Frames.maxPayload(type);
    if (max < 0) {
      throw new FrameException("unknown frame type 0x" + Integer.toHexString(type & 0xFF));
    }
    if (length > max) {
      throw new FrameException("frame of " + length + " bytes exceeds the limit of " + max);
    }
    if (type == Frames.KEEPALIVE) {
      remaining = 0;
      return true;
    }
    if (batch != (type == Frames.RESPONSE) && type != Frames.END) {
      throw new FrameException(batch ? "a batch holds only response frames" : "unexpected response frame");
    }
    if (type == Frames.DATA && length == 0) {
      throw new FrameException("empty data frame");
    }
    if (headExpected && !headSeen && type != Frames.HEAD) {
      throw new FrameException("stream does not start with a head frame");
    }
    if (type == Frames.HEAD && (!headExpected || headSeen)) {
      throw new FrameException("unexpected head frame");
    }
    remaining = (int) length;
    if (type != Frames.DATA) {
      collected = new byte[remaining];
      collectedFilled = 0;
    }
    return true;
  }

  private Event complete() {
    headerFilled = 0;
    switch (type) {
      case Frames.HEAD:
        headSeen = true;
        return Event.HEAD;
      case Frames.END:
        finished = true;
        return Event.END;
      case Frames.ABORT:
        finished = true;
        abortReason = new String(collected, StandardCharsets.UTF_8);
        return Event.ABORT;
      case Frames.RESPONSE:
        return Event.RESPONSE;
      case Frames.KEEPALIVE:
        return null;
      default:
        throw new IllegalStateException("no complete event for frame type " + (char) type);
    }
  }

  /** Payload of the last {@link Event#HEAD}. */
  public byte[] head() {
    return collected;
  }

  /** Payload of the last {@link Event#RESPONSE}, for {@link BatchedResponse#parse}. */
  public byte[] response() {
    return collected;
  }

  /** Start of the last {@link Event#DATA} region in the buffer's backing array. */
  public int dataOffset() {
    return dataOffset;
  }

  /** Length of the last {@link Event#DATA} region. */
  public int dataLength() {
    return dataLength;
  }

  /** Reason of the last {@link Event#ABORT}. */
  public String abortReason() {
    return abortReason;
  }

  /** True once an end or abort frame was read. */
  public boolean isFinished() {
    return finished;
  }
}
