package dev.drawbridge.protocol;

import java.io.IOException;
import java.io.InputStream;

/**
 * The answers of a streamed poll: each a 4-byte big-endian length, then that many bytes of a
 * {@link PollResult} in JSON. The stream ends after a whole unit.
 */
public final class PollUnits {

  /** Largest unit a reader accepts: a full batch of request heads at their largest. */
  public static final int MAX_UNIT = 16 * 1024 * 1024;

  private PollUnits() {}

  /** {@code result} as one unit. */
  public static byte[] encode(PollResult result) {
    byte[] json = WireJson.write(result);
    byte[] unit = new byte[4 + json.length];
    unit[0] = (byte) (json.length >>> 24);
    unit[1] = (byte) (json.length >>> 16);
    unit[2] = (byte) (json.length >>> 8);
    unit[3] = (byte) json.length;
    System.arraycopy(json, 0, unit, 4, json.length);
    return unit;
  }

  /**
   * Reads the next unit; null when the stream ended cleanly before one.
   *
   * @throws FrameException when the stream ends inside a unit or a unit is malformed
   */
  public static PollResult read(InputStream in) throws IOException {
    int first = in.read();
    if (first < 0) {
      return null;
    }
    byte[] rest = in.readNBytes(3);
    if (rest.length < 3) {
      throw new FrameException("The streamed poll answer ended inside a unit.");
    }
    int length = (first << 24) | ((rest[0] & 0xff) << 16) | ((rest[1] & 0xff) << 8) | (rest[2] & 0xff);
    if (length < 0 || length > MAX_UNIT) {
      throw new FrameException("A streamed poll answer claims " + length + " bytes, more than the "
          + MAX_UNIT + " allowed.");
    }
    byte[] json = in.readNBytes(length);
    if (json.length < length) {
      throw new FrameException("The streamed poll answer ended inside a unit.");
    }
    return WireJson.readPollResult(json);
  }
}
