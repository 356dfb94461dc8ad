package dev.drawbridge.proxy.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Reading CLOSE_WAIT connections from the kernel's TCP tables. */
@Timeout(30)
class LinuxTcpTableTest {

  /** Lines as a little-endian Linux prints them: a listener, an established and a closing connection. */
  private static final String TCP =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
          + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n"
          + "   1: 0100007F:1F90 0100007F:B26E 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1\n"
          + "   2: 0100007F:1F90 0100007F:B270 08 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1\n";

  /** An IPv4 client of a listener on ::, and a real IPv6 one, both closing. */
  private static final String TCP6 =
      "  sl  local_address                         remote_address                        st tx_queue rx_queue\n"
          + "   0: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:C350 08 00000000:00000000 00:00000000\n"
          + "   1: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:C351 08 00000000:00000000 00:00000000\n";

  @Test
  void readsClosingConnectionsOfBothTables() {
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "the samples are little-endian");
    Set<ConnectionKey> closed = new HashSet<>();
    LinuxTcpTable.parse(TCP, closed);
    LinuxTcpTable.parse(TCP6, closed);
    assertEquals(
        Set.of(
            ConnectionKey.of("127.0.0.1", 8080, "127.0.0.1", 0xB270),
            ConnectionKey.of("127.0.0.1", 8080, "127.0.0.1", 0xC350),
            ConnectionKey.of("::1", 8080, "::1", 0xC351)),
        closed);
  }

  @Test
  void addressesAreWordsInHostOrder() {
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "the samples are little-endian");
    assertArrayEquals(new byte[] {127, 0, 0, 1}, LinuxTcpTable.address("0100007F"));
    assertArrayEquals(new byte[] {(byte) 192, (byte) 168, 1, 20}, LinuxTcpTable.address("1401A8C0"));
  }

  @Test
  void seesAPeerThatClosedItsConnectionWhileTheServerStillHoldsIt() throws Exception {
    assumeTrue(LinuxTcpTable.isAvailable(), "Linux only");
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Socket client = new Socket();
      client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()));
      try (Socket held = listener.accept()) {
        ConnectionKey key =
            ConnectionKey.of(
                held.getLocalAddress().getHostAddress(), held.getLocalPort(),
                held.getInetAddress().getHostAddress(), held.getPort());
        assertTrue(!new LinuxTcpTable().closedByPeer().contains(key), "open: not listed");
        client.close();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> new LinuxTcpTable().closedByPeer().contains(key));
      }
    }
  }
}
