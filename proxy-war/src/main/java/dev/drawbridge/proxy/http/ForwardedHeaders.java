package dev.drawbridge.proxy.http;

import dev.drawbridge.protocol.HeaderField;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Adds the forwarding headers a backend needs to see the real client: {@code X-Forwarded-For/Proto/
 * Host/Prefix}, {@code X-Real-IP}, RFC 7239 {@code Forwarded} and, when the operator asks for it,
 * {@code Via} (RFC 9110 section 7.6.3). Incoming forwarding headers are kept or extended only when the direct peer is a
 * trusted proxy; from anyone else they are replaced, so a client cannot forge its address or the
 * URLs a backend builds.
 *
 * <p>Runs on the end-to-end headers, after hop-by-hop removal, and takes what it adds from the
 * container's own view of the request ({@link Hop}), never from the headers that survived: a client
 * naming {@code Host} in {@code Connection} must not take the host out of the forwarding headers.
 */
public final class ForwardedHeaders {

  private static final String X_FORWARDED_FOR = "X-Forwarded-For";
  private static final String X_FORWARDED_PROTO = "X-Forwarded-Proto";
  private static final String X_FORWARDED_HOST = "X-Forwarded-Host";
  private static final String X_FORWARDED_PREFIX = "X-Forwarded-Prefix";
  private static final String X_REAL_IP = "X-Real-IP";
  private static final String FORWARDED = "Forwarded";
  private static final String VIA = "Via";

  private ForwardedHeaders() {}

  /**
   * The client's hop as the container parsed it.
   *
   * @param peerAddress address of the direct peer (the client, or a proxy in front of us)
   * @param clientAddress the client's address: the peer, or behind trusted proxies the one they name
   * @param host the request's {@code Host} (or HTTP/2 authority), or null when it had none
   * @param scheme {@code http} or {@code https}, as the peer reached us
   * @param protocol the request's protocol, e.g. {@code HTTP/1.1}
   * @param peerTrusted whether the peer's own forwarding headers are believed
   */
  public record Hop(
      String peerAddress, String clientAddress, String host, String scheme, String protocol, boolean peerTrusted) {}

  /**
   * The client's end-to-end headers with forwarding headers added.
   *
   * @param headers end-to-end request headers as received, hop-by-hop ones already removed
   * @param hop the client's hop, from the container
   * @param via this proxy's pseudonym for {@code Via}, or null to add no {@code Via} entry
   */
  public static List<HeaderField> add(List<HeaderField> headers, Hop hop, String via) {
    return add(headers, hop, via, "");
  }

  /**
   * Like {@link #add(List, Hop, String)}, naming the public path prefix in {@code X-Forwarded-Prefix}.
   *
   * @param publicPrefix the path this proxy removed before the backend sees the target (context
   *     path and a stripped route prefix, raw, no trailing slash), "" when none
   */
  public static List<HeaderField> add(List<HeaderField> headers, Hop hop, String via, String publicPrefix) {
    String peerAddress = hop.peerAddress();
    String scheme = hop.scheme();
    String host = hop.host();
    List<HeaderField> result = new ArrayList<>(headers.size() + 7);
    if (host != null) {
      // The request's authority, not a connection option: it goes on even when Connection named it.
      result.add(new HeaderField("Host", host));
    }
    String forwardedFor = null;
    String forwardedProto = null;
    String forwardedHost = null;
    String forwarded = null;
    String realIp = null;
    String forwardedPrefix = null;
    for (HeaderField field : headers) {
      String name = field.name().toLowerCase(Locale.ROOT);
      switch (name) {
        case "host":
          break;
        case "x-real-ip":
          realIp = realIp == null ? field.value() : realIp;
          break;
        case "x-forwarded-for":
          forwardedFor = join(forwardedFor, field.value());
          break;
        case "x-forwarded-proto":
          forwardedProto = forwardedProto == null ? field.value() : forwardedProto;
          break;
        case "x-forwarded-host":
          forwardedHost = forwardedHost == null ? field.value() : forwardedHost;
          break;
        case "forwarded":
          forwarded = join(forwarded, field.value());
          break;
        case "x-forwarded-prefix":
          forwardedPrefix = forwardedPrefix == null ? field.value() : forwardedPrefix;
          break;
        default:
          result.add(field);
      }
    }
    if (!hop.peerTrusted()) {
      forwardedFor = null;
      forwardedProto = null;
      forwardedHost = null;
      forwarded = null;
      realIp = null;
      forwardedPrefix = null;
    }
    result.add(new HeaderField(X_FORWARDED_FOR, join(forwardedFor, peerAddress)));
    result.add(new HeaderField(X_FORWARDED_PROTO, forwardedProto != null ? forwardedProto : scheme));
    String hostForBackend = forwardedHost != null ? forwardedHost : host;
    if (hostForBackend != null) {
      result.add(new HeaderField(X_FORWARDED_HOST, hostForBackend));
    }
    String prefix = prefix(forwardedPrefix, publicPrefix);
    if (!prefix.isEmpty()) {
      result.add(new HeaderField(X_FORWARDED_PREFIX, prefix));
    }
    result.add(new HeaderField(X_REAL_IP, realIp != null && !realIp.isBlank() ? realIp : hop.clientAddress()));
    result.add(new HeaderField(FORWARDED, join(forwarded, forwardedElement(peerAddress, scheme, host))));
    if (via != null) {
      result.add(new HeaderField(VIA, viaEntry(hop.protocol(), via)));
    }
    return result;
  }

  /**
   * The public path in front of what the backend sees: a trusted proxy's own prefix (it removed
   * that part before calling us), then ours. A lone "/" adds nothing.
   */
  static String prefix(String trustedPrefix, String ownPrefix) {
    String outer = trustedPrefix == null ? "" : trimSlashes(trustedPrefix.trim());
    return outer + trimSlashes(ownPrefix == null ? "" : ownPrefix);
  }

  private static String trimSlashes(String path) {
    String trimmed = path;
    while (trimmed.endsWith("/")) {
      trimmed = trimmed.substring(0, trimmed.length() - 1);
    }
    return trimmed.isEmpty() || trimmed.startsWith("/") ? trimmed : "/" + trimmed;
  }

  /** A {@code Via} entry for a message received with {@code protocol}, e.g. {@code 1.1 drawbridge}. */
  public static String viaEntry(String protocol, String pseudonym) {
    String version = protocol;
    if (protocol != null && protocol.regionMatches(true, 0, "HTTP/", 0, 5)) {
      version = protocol.substring(5);
    }
    if ("2.0".equals(version)) {
      version = "2";
    }
    return (version == null || version.isEmpty() ? "1.1" : version) + " " + pseudonym;
  }

  /** One RFC 7239 element: {@code for=...;proto=...;host=...}, quoting where the syntax needs it. */
  static String forwardedElement(String peerAddress, String scheme, String host) {
    StringBuilder element = new StringBuilder("for=").append(nodeName(peerAddress));
    element.append(";proto=").append(scheme);
    if (host != null && !host.isEmpty()) {
      element.append(";host=").append(quoteIfNeeded(host));
    }
    return element.toString();
  }

  private static String nodeName(String address) {
    if (address.indexOf(':') >= 0) {
      // RFC 7239 section 6: IPv6 addresses are bracketed, and brackets force a quoted string.
      String bare = address.startsWith("[") ? address : "[" + address + "]";
      return "\"" + bare + "\"";
    }
    return address;
  }

  private static String quoteIfNeeded(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean token = Character.isLetterOrDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!token) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
      }
    }
    return value;
  }

  private static String join(String existing, String next) {
    return existing == null || existing.isBlank() ? next : existing + ", " + next;
  }
}
