package dev.drawbridge.agent;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns a {@code --proxy} URL into the nodes behind it: one per address its host name resolves to
 * (every A and AAAA record), or the URL alone when an egress proxy resolves names for the agent.
 */
final class NodeResolver {

  /** The name lookup; the JVM's resolver in production, a table in tests. */
  interface Lookup {
    InetAddress[] allAddresses(String host) throws UnknownHostException;
  }

  private final Lookup lookup;
  private final boolean viaEgressProxy;

  /**
   * @param viaEgressProxy true when calls go through an egress proxy: the agent then cannot choose
   *     the address (the egress proxy connects by name), so each URL is one node
   */
  NodeResolver(Lookup lookup, boolean viaEgressProxy) {
    this.lookup = lookup;
    this.viaEgressProxy = viaEgressProxy;
  }

  /** The JVM's resolver, which honours {@code /etc/hosts}, DNS and {@code -Djdk.net.hosts.file}. */
  static NodeResolver system(boolean viaEgressProxy) {
    return new NodeResolver(InetAddress::getAllByName, viaEgressProxy);
  }

  /**
   * The nodes of {@code proxy}, in the resolver's order, without duplicates.
   *
   * @throws UnknownHostException when the name does not resolve now
   */
  List<ProxyNode> nodes(URI proxy) throws UnknownHostException {
    if (viaEgressProxy) {
      return List.of(new ProxyNode(proxy, null));
    }
    String host = new ProxyNode(proxy, null).host();
    Set<InetAddress> addresses = new LinkedHashSet<>(List.of(lookup.allAddresses(host)));
    if (addresses.isEmpty()) {
      throw new UnknownHostException(host + " resolves to no address");
    }
    List<ProxyNode> nodes = new ArrayList<>();
    for (InetAddress address : addresses) {
      nodes.add(new ProxyNode(proxy, address));
    }
    return nodes;
  }
}
