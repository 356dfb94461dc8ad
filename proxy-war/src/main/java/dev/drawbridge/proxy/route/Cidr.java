package dev.drawbridge.proxy.route;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * An IPv4 or IPv6 address block such as {@code 10.0.0.0/8} or {@code 2001:db8::/32}; a bare
 * address is a block of one. IPv4-mapped IPv6 addresses ({@code ::ffff:10.0.0.1}) count as IPv4,
 * so a dual-stack listener cannot be used to slip past an IPv4 rule.
 */
public final class Cidr {

  /** Only literals are parsed, so building a rule never triggers a DNS lookup. */
  private static final Pattern LITERAL = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

  private final byte[] network;
  private final int prefixBits;
  private final String text;

  private Cidr(byte[] network, int prefixBits, String text) {
    this.network = network;
    this.prefixBits = prefixBits;
    this.text = text;
  }

  /** Parses {@code address[/bits]}; throws {@link IllegalArgumentException} with a one-line reason. */
  public static Cidr parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("must be an address or address/bits, e.g. 10.0.0.0/8 or 2001:db8::/32");
    }
    String trimmed = text.trim();
    int slash = trimmed.indexOf('/');
    byte[] address = address(slash < 0 ? trimmed : trimmed.substring(0, slash));
    if (address == null) {
      throw new IllegalArgumentException("'" + trimmed + "' is not an IPv4 or IPv6 address block");
    }
    int bits = address.length * 8;
    if (slash >= 0) {
      try {
        bits = Integer.parseInt(trimmed.substring(slash + 1));
      } catch (NumberFormatException e) {
        bits = -1;
      }
      if (bits < 0 || bits > address.length * 8) {
        throw new IllegalArgumentException("'" + trimmed + "' has a prefix length outside 0.." + address.length * 8);
      }
    }
    return new Cidr(address, bits, trimmed);
  }

  /** The bytes of an IP literal (4 for IPv4 and mapped IPv6, else 16), or null when it is not one. */
  public static byte[] address(String literal) {
    if (literal == null) {
      return null;
    }
    String bare = literal.startsWith("[") && literal.endsWith("]") ? literal.substring(1, literal.length() - 1) : literal;
    int zone = bare.indexOf('%');
    if (zone >= 0) {
      bare = bare.substring(0, zone);
    }
    if (!LITERAL.matcher(bare).matches()) {
      return null;
    }
    try {
      return InetAddress.getByName(bare).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /** True when {@code address} (from {@link #address}) lies in this block. */
  public boolean contains(byte[] address) {
    if (address == null || address.length != network.length) {
      return false;
    }
    int full = prefixBits / 8;
    for (int i = 0; i < full; i++) {
      if (address[i] != network[i]) {
        return false;
      }
    }
    int rest = prefixBits % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xFF << (8 - rest)) & 0xFF;
    return (address[full] & mask) == (network[full] & mask);
  }

  @Override
  public String toString() {
    return text;
  }
}
