package dev.drawbridge.proxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** A connection's identity from what a servlet container reports. */
class ConnectionKeyTest {

  @Test
  void anIpv4ClientOfAnIpv6ListenerIsTheSameConnectionEitherWay() {
    assertEquals(
        ConnectionKey.of("127.0.0.1", 8080, "10.0.0.7", 50000),
        ConnectionKey.of("::ffff:127.0.0.1", 8080, "::ffff:10.0.0.7", 50000));
  }

  @Test
  void everyPartCounts() {
    ConnectionKey key = ConnectionKey.of("127.0.0.1", 8080, "10.0.0.7", 50000);
    assertNotEquals(key, ConnectionKey.of("127.0.0.1", 8081, "10.0.0.7", 50000));
    assertNotEquals(key, ConnectionKey.of("127.0.0.2", 8080, "10.0.0.7", 50000));
    assertNotEquals(key, ConnectionKey.of("127.0.0.1", 8080, "10.0.0.8", 50000));
    assertNotEquals(key, ConnectionKey.of("127.0.0.1", 8080, "10.0.0.7", 50001));
  }

  @Test
  void ipv6LiteralsWithOrWithoutBrackets() {
    assertEquals(ConnectionKey.of("::1", 443, "[::1]", 40000), ConnectionKey.of("0:0:0:0:0:0:0:1", 443, "::1", 40000));
  }

  @Test
  void namesAndMissingPortsGiveNoKeyAndNoLookup() {
    assertNull(ConnectionKey.of("localhost", 8080, "127.0.0.1", 50000));
    assertNull(ConnectionKey.of("127.0.0.1", 8080, "client.example.com", 50000));
    assertNull(ConnectionKey.of("127.0.0.1", 8080, null, 50000));
    assertNull(ConnectionKey.of("127.0.0.1", 8080, "127.0.0.1", -1));
  }
}
