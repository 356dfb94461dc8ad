package dev.drawbridge.protocol;

import java.nio.charset.StandardCharsets;

/**
 * One complete small response inside a batch: the payload of a {@link Frames#RESPONSE} frame.
 *
 * <pre>
 * payload = id-length(1 byte) id(ASCII) head-length(4 bytes, big-endian) head(UTF-8 JSON) body
 * </pre>
 *
 * The body is what is left of the payload, at most {@link Frames#MAX_BATCHED_BODY} bytes. The
 * arrays are shared, not copied: callers must not change them.
 */
public final class BatchedResponse {

  private final String exchangeId;
  private final byte[] payload;
  private final int headOffset;
  private final int headLength;
  private final int bodyOffset;

  private BatchedResponse(String exchangeId, byte[] payload, int headOffset, int headLength) {
    this.exchangeId = exchangeId;
    this.payload = payload;
    this.headOffset = headOffset;
    this.headLength = headLength;
    this.bodyOffset = headOffset + headLength;
  }

  /**
   * The whole frame (header included) for one response.
   *
   * @throws IllegalArgumentException when the id, head or body is too long for a batch
   */
  public static byte[] frame(String exchangeId, byte[] head, byte[] body, int bodyLength) {
    byte[] id = exchangeId.getBytes(StandardCharsets.US_ASCII);
    if (id.length == 0 || id.length > 255) {
      throw new IllegalArgumentException("exchange id of " + id.length + " bytes");
    }
    if (head.length > Frames.MAX_HEAD || bodyLength > Frames.MAX_BATCHED_BODY) {
      throw new IllegalArgumentException("response too large for a batch");
    }
    int payloadLength = 1 + id.length + 4 + head.length + bodyLength;
    byte[] frame = new byte[Frames.HEADER_LENGTH + payloadLength];
    Frames.putHeader(frame, 0, Frames.RESPONSE, payloadLength);
    int at = Frames.HEADER_LENGTH;
    frame[at++] = (byte) id.length;
    System.arraycopy(id, 0, frame, at, id.length);
    at += id.length;
    frame[at++] = (byte) (head.length >>> 24);
    frame[at++] = (byte) (head.length >>> 16);
    frame[at++] = (byte) (head.length >>> 8);
    frame[at++] = (byte) head.length;
    System.arraycopy(head, 0, frame, at, head.length);
    at += head.length;
    System.arraycopy(body, 0, frame, at, bodyLength);
    return frame;
  }

  /**
   * Reads a {@link Frames#RESPONSE} payload.
   *
   * @throws FrameException when the lengths inside do not fit the payload or its limits
   */
  public static BatchedResponse parse(byte[] payload) throws FrameException {
    if (payload.length < 1) {
      throw new FrameException("empty batched response");
    }
    int idLength = payload[0] & 0xFF;
    if (idLength == 0 || payload.length < 1 + idLength + 4) {
      throw new FrameException("batched response too short for its exchange id");
    }
    for (int i = 1; i <= idLength; i++) {
      if (payload[i] < 0x21 || payload[i] > 0x7E) {
        throw new FrameException("batched response with a non-printable exchange id");
      }
    }
    String id = new String(payload, 1, idLength, StandardCharsets.US_ASCII);
    int at = 1 + idLength;
    long headLength =
        ((payload[at] & 0xFFL) << 24)
            | ((payload[at + 1] & 0xFF) << 16)
            | ((payload[at + 2] & 0xFF) << 8)
            | (payload[at + 3] & 0xFF);
    int headOffset = at + 4;
    if (headLength > Frames.MAX_HEAD || headOffset + headLength > payload.length) {
      throw new FrameException("batched response with a head of " + headLength + " bytes that does not fit");
    }
    BatchedResponse response = new BatchedResponse(id, payload, headOffset, (int) headLength);
    if (response.bodyLength() > Frames.MAX_BATCHED_BODY) {
      throw new FrameException("batched response body exceeds " + Frames.MAX_BATCHED_BODY + " bytes");
    }
    return response;
  }

  public String exchangeId() {
    return exchangeId;
  }

  /** The head's JSON. */
  public byte[] head() {
    return java.util.Arrays.copyOfRange(payload, headOffset, headOffset + headLength);
  }

  /** The array holding the body, from {@link #bodyOffset()} for {@link #bodyLength()} bytes. */
  public byte[] bodyArray() {
    return payload;
  }

  public int bodyOffset() {
    return bodyOffset;
  }

  public int bodyLength() {
    return payload.length - bodyOffset;
  }
}
