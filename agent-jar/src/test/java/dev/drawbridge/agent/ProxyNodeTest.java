package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a --proxy URL becomes nodes, and how logs and the proxy's admin page name them. */
class ProxyNodeTest {

  private static InetAddress ip(String name, int... octets) throws UnknownHostException {
    byte[] bytes = new byte[octets.length];
    for (int i = 0; i < octets.length; i++) {
      bytes[i] = (byte) octets[i];
    }
    return InetAddress.getByAddress(name, bytes);
  }

  @Test
  void aNameBecomesOneNodePerAddress() throws Exception {
    Map<String, InetAddress[]> table = Map.of("edge.example.com",
        new InetAddress[] {ip("edge.example.com", 10, 0, 0, 5), ip("edge.example.com", 10, 0, 0, 6),
            ip("edge.example.com", 10, 0, 0, 5)});
    NodeResolver resolver = new NodeResolver(table::get, false);
    List<ProxyNode> nodes = resolver.nodes(URI.create("https://edge.example.com/drawbridge"));
    assertEquals(List.of("edge.example.com/10.0.0.5:443", "edge.example.com/10.0.0.6:443"),
        nodes.stream().map(ProxyNode::label).toList(), "in the resolver's order, without duplicates");
    assertEquals("https://edge.example.com/drawbridge at 10.0.0.6:443", nodes.get(1).describe());
  }

  @Test
  void anAddressIsOneNodeNamedByItself() throws Exception {
    NodeResolver resolver = NodeResolver.system(false);
    ProxyNode node = resolver.nodes(URI.create("http://127.0.0.2:8080/drawbridge")).get(0);
    assertEquals("127.0.0.2:8080", node.label());
    assertEquals("http://127.0.0.2:8080/drawbridge", node.describe());
    ProxyNode v6 = resolver.nodes(URI.create("http://[::1]:9/d")).get(0);
    assertEquals("[::1]:9", v6.label());
  }

  @Test
  void throughAnEgressProxyEachUrlIsOneNodeResolvedThere() throws Exception {
    NodeResolver resolver = new NodeResolver(host -> {
      throw new AssertionError("no lookup through an egress proxy");
    }, true);
    ProxyNode node = resolver.nodes(URI.create("https://edge.example.com/drawbridge")).get(0);
    assertEquals(null, node.address());
    assertEquals("edge.example.com:443", node.label());
  }

  @Test
  void aNameWithoutAddressesIsALookupFailure() {
    NodeResolver resolver = new NodeResolver(host -> new InetAddress[0], false);
    assertThrows(UnknownHostException.class, () -> resolver.nodes(URI.create("https://gone.example.com")));
  }
}
