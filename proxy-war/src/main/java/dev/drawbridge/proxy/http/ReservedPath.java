package dev.drawbridge.proxy.http;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Tells whether a request target names the proxy's reserved prefix in any spelling. The proxy
 * forwards targets byte for byte, and a server behind it may decode and normalise them as it likes
 * ({@code /_drawbridg%65/x}, {@code /%5Fdrawbridge/x}, {@code //_drawbridge/x}, {@code
 * /_drawbridge;v=1/x}, {@code /a/../_drawbridge/x}, or encoded twice). One rule covers them all: the
 * path is percent-decoded until nothing is left to decode, then normalised as servers do (path
 * parameters dropped, empty and {@code .} segments removed, {@code ..} applied, {@code \} read as
 * {@code /}); if that names the prefix or anything under it, the request is the proxy's and is
 * never forwarded. The query is not looked at.
 */
public final class ReservedPath {

  /** Decoding rounds before a path is taken as reserved anyway: no honest path nests that deep. */
  private static final int MAX_DECODING_ROUNDS = 8;

  private ReservedPath() {}

  /**
   * True when {@code target} (a raw request target, with or without a query) is {@code prefix} or
   * under it, in any spelling.
   *
   * @param prefix the reserved prefix, e.g. {@code /_drawbridge}
   */
  public static boolean covers(String target, String prefix) {
    int query = target.indexOf('?');
    String path = query >= 0 ? target.substring(0, query) : target;
    for (int round = 0; round < MAX_DECODING_ROUNDS; round++) {
      String normal = normalise(path);
      if (normal.equals(prefix) || normal.startsWith(prefix + "/")) {
        return true;
      }
      String decoded = decode(path);
      if (decoded.equals(path)) {
        return false;
      }
      path = decoded;
    }
    return true;
  }

  /** The path as a server normalises it: see the class comment. */
  static String normalise(String path) {
    Deque<String> segments = new ArrayDeque<>();
    for (String segment : path.replace('\\', '/').split("/", -1)) {
      int parameters = segment.indexOf(';');
      String name = parameters >= 0 ? segment.substring(0, parameters) : segment;
      if (name.isEmpty() || name.equals(".")) {
        continue;
      }
      if (name.equals("..")) {
        segments.pollLast();
      } else {
        segments.addLast(name);
      }
    }
    return "/" + String.join("/", segments);
  }

  /** One round of percent-decoding (UTF-8); a {@code %} not followed by two hex digits stays. */
  static String decode(String path) {
    if (path.indexOf('%') < 0) {
      return path;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(path.length());
    byte[] raw = path.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < raw.length; i++) {
      int high = i + 2 < raw.length && raw[i] == '%' ? Character.digit(raw[i + 1], 16) : -1;
      int low = high >= 0 ? Character.digit(raw[i + 2], 16) : -1;
      if (low >= 0) {
        bytes.write(high * 16 + low);
        i += 2;
      } else {
        bytes.write(raw[i]);
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
