package dev.drawbridge.protocol;

/**
 * Body framing of the agent protocol.
 *
 * <pre>
 * stream  = [head-frame] *data-frame (end-frame / abort-frame)
 * batch   = *response-frame end-frame
 * frame   = type(1 byte) length(4 bytes, big-endian, 0..MAX_PAYLOAD) payload(length bytes)
 * type    = 'H' head: UTF-8 JSON ({@link ResponseHead}), only first, only in responses
 *         / 'D' data: body bytes, length &gt; 0
 *         / 'E' end: the body (or batch) is complete, length 0
 *         / 'A' abort: the sender failed mid-body, payload is a UTF-8 reason
 *         / 'R' a whole small response, only in batches: see {@link BatchedResponse}
 *         / 'K' keepalive: nothing to carry yet, length 0; anywhere before the end, skipped by readers
 * </pre>
 *
 * <p>Explicit end and abort frames make "complete" and "cut short" distinguishable whatever the
 * container or HTTP version does with connection errors, so a truncated body is never passed on as a
 * whole one.
 */
public final class Frames {

  /** Type byte of a head frame. */
  public static final byte HEAD = 'H';

  /** Type byte of a data frame. */
  public static final byte DATA = 'D';

  /** Type byte of an end frame. */
  public static final byte END = 'E';

  /** Type byte of an abort frame. */
  public static final byte ABORT = 'A';

  /** Type byte of a complete response in a batch. */
  public static final byte RESPONSE = 'R';

  /**
   * Type byte of a keepalive frame: the sender is there but has nothing to carry. A stream that
   * stays silent for long is cut by what lies between agent and proxy (the container's read
   * timeout, a load balancer's, a NAT's memory of the connection); a keepalive every few seconds
   * keeps it open. Readers skip it; it is sent only to a peer that declared it reads it (see {@link
   * Protocol#FEATURE_KEEPALIVE}).
   */
  public static final byte KEEPALIVE = 'K';

  /** Bytes before each payload. */
  public static final int HEADER_LENGTH = 5;

  /** Largest payload of a data frame. */
  public static final int MAX_PAYLOAD = 1 << 20;

  /** Largest payload of a head frame. */
  public static final int MAX_HEAD = 64 * 1024;

  /** Largest payload of an abort frame. */
  public static final int MAX_ABORT_REASON = 1024;

  /** Largest body a {@link #RESPONSE} frame carries; bigger responses stream in their own call. */
  public static final int MAX_BATCHED_BODY = 64 * 1024;

  /** Largest payload of a {@link #RESPONSE} frame: id, head and body with their lengths. */
  public static final int MAX_BATCHED_RESPONSE = 1 + 255 + 4 + MAX_HEAD + MAX_BATCHED_BODY;

  private Frames() {}

  /** Writes a frame header for {@code type} and {@code length} into {@code target} at {@code offset}. */
  public static void putHeader(byte[] target, int offset, byte type, int length) {
    if (length < 0 || length > MAX_PAYLOAD) {
      throw new IllegalArgumentException("frame length out of range: " + length);
    }
    target[offset] = type;
    target[offset + 1] = (byte) (length >>> 24);
    target[offset + 2] = (byte) (length >>> 16);
    target[offset + 3] = (byte) (length >>> 8);
    target[offset + 4] = (byte) length;
  }

  /** A complete frame of {@code type} carrying {@code payload}. */
  public static byte[] frame(byte type, byte[] payload) {
    byte[] frame = new byte[HEADER_LENGTH + payload.length];
    putHeader(frame, 0, type, payload.length);
    System.arraycopy(payload, 0, frame, HEADER_LENGTH, payload.length);
    return frame;
  }

  /** The end frame. */
  public static byte[] end() {
    return frame(END, new byte[0]);
  }

  /** The keepalive frame. */
  public static byte[] keepalive() {
    return frame(KEEPALIVE, new byte[0]);
  }

  /** An abort frame with a reason, cut to {@link #MAX_ABORT_REASON} bytes. */
  public static byte[] abort(String reason) {
    byte[] bytes = reason.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (bytes.length > MAX_ABORT_REASON) {
      bytes = java.util.Arrays.copyOf(bytes, MAX_ABORT_REASON);
    }
    return frame(ABORT, bytes);
  }

  /** Largest payload allowed for {@code type}, or -1 when the type byte is unknown. */
  static int maxPayload(byte type) {
    switch (type) {
      case HEAD:
        return MAX_HEAD;
      case DATA:
        return MAX_PAYLOAD;
      case END:
      case KEEPALIVE:
        return 0;
      case ABORT:
        return MAX_ABORT_REASON;
      case RESPONSE:
        return MAX_BATCHED_RESPONSE;
      default:
        return -1;
    }
  }
}
