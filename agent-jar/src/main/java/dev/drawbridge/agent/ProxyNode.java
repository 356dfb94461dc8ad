package dev.drawbridge.agent;

import java.net.InetAddress;
import java.net.URI;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One proxy node the agent attaches to: a {@code --proxy} URL, and the address its host name
 * resolved to. The agent connects to {@code address} but still speaks to {@code url}'s host name:
 * it is the TLS server name (SNI), the name the certificate is verified against and the
 * {@code Host} header, so every node of a name can share that name's certificate.
 *
 * @param url proxy base URL as configured, without a trailing slash
 * @param address where to connect, or null to let the connection resolve the name (through an
 *     egress proxy, which resolves it itself)
 */
record ProxyNode(URI url, InetAddress address) {

  /** A dotted IPv4 address as a URL's host writes it; compiled once, since every poll asks. */
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  ProxyNode {
    Objects.requireNonNull(url, "url");
  }

  /** The URL's host as written, without IPv6 brackets. */
  String host() {
    String host = url.getHost();
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /** The URL's port, or the scheme's default. */
  int port() {
    if (url.getPort() >= 0) {
      return url.getPort();
    }
    return url.getScheme().equals("https") ? 443 : 80;
  }

  /**
   * How logs, the proxy's admin page and {@code --help} name this node: {@code 10.0.0.5:443} when the
   * URL names an address, {@code edge.example.com/10.0.0.5:443} when a name resolved to it,
   * {@code edge.example.com:443} when the name is left to an egress proxy.
   */
  String label() {
    if (address == null || isAddressLiteral()) {
      return bracketed(host()) + ":" + port();
    }
    return host() + "/" + bracketed(address.getHostAddress()) + ":" + port();
  }

  /**
   * How log lines name this node: the URL, and the address when a name was resolved to pick it, e.g.
   * {@code https://edge.example.com/drawbridge at 10.0.0.5:443}.
   */
  String describe() {
    if (address == null || isAddressLiteral()) {
      return url.toString();
    }
    return url + " at " + bracketed(address.getHostAddress()) + ":" + port();
  }

  /** True when the URL names an IP address rather than a host name. */
  boolean isAddressLiteral() {
    String host = host();
    return host.indexOf(':') >= 0 || IPV4.matcher(host).matches();
  }

  private static String bracketed(String host) {
    return host.indexOf(':') >= 0 ? "[" + host + "]" : host;
  }

  @Override
  public String toString() {
    return label();
  }
}
