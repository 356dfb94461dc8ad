package dev.drawbridge.it.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Large bodies without large memory: a reproducible byte pattern generated on the fly, and a
 * one-pass summary (length, SHA-256, first bytes) of whatever arrives. A test compares summaries
 * instead of holding 50 MiB in the heap it is trying to measure.
 */
public final class Bodies {

  /** The pattern cycles through a prime count of values, so shifted or repeated blocks show. */
  private static final int PATTERN_PERIOD = 251;

  private static final int BUFFER_SIZE = 64 * 1024;

  private Bodies() {}

  /** A body's length, SHA-256 (lowercase hex) and its first bytes. */
  public record Summary(long length, String sha256, byte[] prefix) {}

  /** The pattern byte at {@code offset}. */
  public static byte patternByte(long offset) {
    return (byte) (offset % PATTERN_PERIOD);
  }

  /** A stream of {@code length} pattern bytes, generated as it is read. */
  public static InputStream pattern(long length) {
    return new InputStream() {
      private long offset;

      @Override
      public int read() {
        return offset < length ? patternByte(offset++) & 0xff : -1;
      }

      @Override
      public int read(byte[] buffer, int from, int count) {
        if (offset >= length) {
          return -1;
        }
        int n = (int) Math.min(count, length - offset);
        for (int i = 0; i < n; i++) {
          buffer[from + i] = patternByte(offset++);
        }
        return n;
      }
    };
  }

  /** SHA-256 of {@code length} pattern bytes: what a receiver of {@link #pattern} must see. */
  public static String patternSha256(long length) {
    try (InputStream in = pattern(length)) {
      return summarize(in, 0).sha256();
    } catch (IOException e) {
      throw new AssertionError("generated streams do not fail", e);
    }
  }

  /** Reads {@code in} to its end, keeping at most {@code keepBytes} of it. */
  public static Summary summarize(InputStream in, int keepBytes) throws IOException {
    MessageDigest sha256 = Tokens.sha256();
    ByteArrayOutputStream kept = new ByteArrayOutputStream();
    byte[] buffer = new byte[BUFFER_SIZE];
    long length = 0;
    for (int n = in.read(buffer); n != -1; n = in.read(buffer)) {
      sha256.update(buffer, 0, n);
      int keep = (int) Math.max(0, Math.min(n, keepBytes - length));
      kept.write(buffer, 0, keep);
      length += n;
    }
    return new Summary(length, HexFormat.of().formatHex(sha256.digest()), kept.toByteArray());
  }
}
