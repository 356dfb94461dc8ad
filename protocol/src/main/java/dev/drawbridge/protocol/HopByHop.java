package dev.drawbridge.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Hop-by-hop header rules (RFC 9110 section 7.6.1): headers that describe one connection and must
 * not be forwarded, whichever direction a message travels.
 */
public final class HopByHop {

  /**
   * Always hop-by-hop: the RFC 9110 list, the legacy {@code Proxy-Connection}, and the proxy
   * authentication pair, which belongs to the hop that asked for it.
   */
  private static final Set<String> ALWAYS =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "proxy-authenticate",
          "proxy-authorization");

  private HopByHop() {}

  /** True when {@code name} is hop-by-hop on every message. */
  public static boolean isAlways(String name) {
    return ALWAYS.contains(name.toLowerCase(Locale.ROOT));
  }

  /**
   * The end-to-end subset of {@code headers}: drops the fixed hop-by-hop set and every header named
   * in a {@code Connection} field of the same message.
   */
  public static List<HeaderField> endToEnd(List<HeaderField> headers) {
    Set<String> named = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    for (HeaderField field : headers) {
      if (field.name().equalsIgnoreCase("connection")) {
        for (String token : field.value().split(",")) {
          String trimmed = token.trim();
          if (!trimmed.isEmpty()) {
            named.add(trimmed);
          }
        }
      }
    }
    List<HeaderField> kept = new ArrayList<>(headers.size());
    for (HeaderField field : headers) {
      if (!isAlways(field.name()) && !named.contains(field.name())) {
        kept.add(field);
      }
    }
    return kept;
  }
}
