package dev.drawbridge.proxy.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The client's address for address rules, rate limits and logs. Behind a trusted proxy (a load
 * balancer listed in {@code trustedProxies}) the direct peer is that proxy, so the client is found
 * in {@code X-Forwarded-For}: walking it from the right, the first address that is not a trusted
 * proxy. Entries left of a garbled one are ignored, since nobody trusted vouches for them.
 */
public final class ClientAddress {

  private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})(\\.\\d{1,3}){3}");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

  private ClientAddress() {}

  /**
   * @param peer the direct peer's address
   * @param forwardedFor every {@code X-Forwarded-For} value of the request, in order
   * @param trustedProxies addresses whose forwarding headers are believed
   */
  public static String resolve(String peer, List<String> forwardedFor, Set<String> trustedProxies) {
    if (!trustedProxies.contains(peer)) {
      return peer;
    }
    List<String> hops = new ArrayList<>();
    for (String value : forwardedFor) {
      for (String hop : value.split(",")) {
        if (!hop.isBlank()) {
          hops.add(hop.trim());
        }
      }
    }
    String client = peer;
    for (int i = hops.size() - 1; i >= 0; i--) {
      String hop = hops.get(i);
      if (!isIpLiteral(hop)) {
        return client;
      }
      client = hop;
      if (!trustedProxies.contains(hop)) {
        return hop;
      }
    }
    return client;
  }

  /** True for an IPv4 dotted quad or an IPv6 literal; never resolves a name. */
  public static boolean isIpLiteral(String text) {
    if (text == null || text.isEmpty()) {
      return false;
    }
    if (IPV4.matcher(text).matches()) {
      for (String part : text.split("\\.")) {
        if (Integer.parseInt(part) > 255) {
          return false;
        }
      }
      return true;
    }
    return IPV6.matcher(text).matches();
  }
}
