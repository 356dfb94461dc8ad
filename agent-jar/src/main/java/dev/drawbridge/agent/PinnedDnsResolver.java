package dev.drawbridge.agent;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;

/**
 * Resolves one node's host name to that node's address, and every other name (an egress proxy's)
 * as usual. The connection then goes to the chosen node while the request still names the host:
 * HttpClient takes the TLS server name and the certificate check from the host name, not from the
 * address it connects to.
 */
final class PinnedDnsResolver implements DnsResolver {

  private final String host;
  private final InetAddress address;

  private PinnedDnsResolver(String host, InetAddress address) {
    this.host = host;
    this.address = address;
  }

  /** The resolver for {@code node}, or null (HttpClient's own) when its address is left open. */
  static DnsResolver of(ProxyNode node) {
    return node.address() == null ? null : new PinnedDnsResolver(node.host(), node.address());
  }

  @Override
  public InetAddress[] resolve(String name) throws UnknownHostException {
    if (name.equalsIgnoreCase(host)) {
      return new InetAddress[] {address};
    }
    return SystemDefaultDnsResolver.INSTANCE.resolve(name);
  }

  @Override
  public List<InetSocketAddress> resolve(String name, int port) throws UnknownHostException {
    if (name.equalsIgnoreCase(host)) {
      return List.of(new InetSocketAddress(address, port));
    }
    return SystemDefaultDnsResolver.INSTANCE.resolve(name, port);
  }

  @Override
  public String resolveCanonicalHostname(String name) throws UnknownHostException {
    return name.equalsIgnoreCase(host) ? host : SystemDefaultDnsResolver.INSTANCE.resolveCanonicalHostname(name);
  }
}
