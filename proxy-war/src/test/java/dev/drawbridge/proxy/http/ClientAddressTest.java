package dev.drawbridge.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ClientAddressTest {

  private static final Set<String> TRUSTED = Set.of("10.0.0.2", "10.0.0.3");

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("untrusted peer: its own address, whatever it claims", "203.0.113.9", List.of("1.2.3.4"), "203.0.113.9"),
        Arguments.of("trusted peer without the header", "10.0.0.2", List.of(), "10.0.0.2"),
        Arguments.of("trusted peer: the forwarded client", "10.0.0.2", List.of("198.51.100.7"), "198.51.100.7"),
        Arguments.of("two trusted hops", "10.0.0.2", List.of("198.51.100.7, 10.0.0.3"), "198.51.100.7"),
        Arguments.of("a forged entry left of the real client is ignored", "10.0.0.2", List.of("1.1.1.1, 198.51.100.7"), "198.51.100.7"),
        Arguments.of("several header lines", "10.0.0.2", List.of("1.1.1.1", "198.51.100.7"), "198.51.100.7"),
        Arguments.of("garbage stops the walk", "10.0.0.2", List.of("198.51.100.7, evil.example, 10.0.0.3"), "10.0.0.3"),
        Arguments.of("IPv6 client", "10.0.0.2", List.of("2001:db8::1"), "2001:db8::1"),
        Arguments.of("only trusted hops: the leftmost", "10.0.0.2", List.of("10.0.0.3"), "10.0.0.3"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void findsTheClientBehindTrustedProxies(String name, String peer, List<String> forwardedFor, String client) {
    assertEquals(client, ClientAddress.resolve(peer, forwardedFor, TRUSTED));
  }
}
