package dev.drawbridge.proxy.http;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The rules for a client's {@code Upgrade} header (RFC 9110 section 7.8): which protocol switches
 * the proxy relays. Every protocol is relayed as opaque bytes except {@code h2c}, which would make
 * the proxy's own connection HTTP/2 and which RFC 9113 deprecates: it is dropped from the offer,
 * and an offer of only {@code h2c} is forwarded as the ordinary request it also is.
 */
public final class UpgradeTokens {

  private UpgradeTokens() {}

  /** The protocols of an {@code Upgrade} value, lower-cased, in order, without duplicates. */
  public static Set<String> parse(String value) {
    Set<String> tokens = new LinkedHashSet<>();
    if (value == null) {
      return tokens;
    }
    for (String part : value.split(",")) {
      String token = part.trim().toLowerCase(Locale.ROOT);
      if (!token.isEmpty()) {
        tokens.add(token);
      }
    }
    return tokens;
  }

  /**
   * The offer to relay: the client's {@code Upgrade} value without {@code h2c}, or null when
   * nothing is left to relay (no header, or only {@code h2c}).
   */
  public static String relayable(String clientUpgrade) {
    if (clientUpgrade == null) {
      return null;
    }
    StringBuilder kept = new StringBuilder();
    for (String part : clientUpgrade.split(",")) {
      String token = part.trim();
      String name = token.toLowerCase(Locale.ROOT);
      if (token.isEmpty() || name.equals("h2c") || name.startsWith("h2c/")) {
        continue;
      }
      if (kept.length() > 0) {
        kept.append(", ");
      }
      kept.append(token);
    }
    return kept.length() == 0 ? null : kept.toString();
  }

  /** True when a request's {@code Connection} header names {@code upgrade}, as a switch requires. */
  public static boolean connectionAsksUpgrade(Iterable<String> connectionValues) {
    for (String value : connectionValues) {
      for (String part : value.split(",")) {
        if (part.trim().equalsIgnoreCase("upgrade")) {
          return true;
        }
      }
    }
    return false;
  }
}
