package dev.drawbridge.proxy.net;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The connections in state CLOSE_WAIT in Linux's {@code /proc/net/tcp} and {@code /proc/net/tcp6}:
 * the peer sent its FIN (it closed the connection, or at least its sending side) and the server
 * has not closed the socket yet. Neither Tomcat nor Jetty notices that for a request they hold
 * asynchronously with no read pending, until something is written to it; the kernel knows at once.
 * The files list the connections of the reading process's network namespace, which are the
 * container's own.
 */
final class LinuxTcpTable implements ClosedConnections {

  private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
  /** {@code TCP_CLOSE_WAIT} in the kernel's {@code tcp_states.h}, as the table prints it. */
  private static final String CLOSE_WAIT = "08";

  private final List<Path> tables;

  LinuxTcpTable() {
    this(TABLES);
  }

  LinuxTcpTable(List<Path> tables) {
    this.tables = tables;
  }

  static boolean isAvailable() {
    return Files.isReadable(TABLES.get(0));
  }

  @Override
  public Set<ConnectionKey> closedByPeer() {
    Set<ConnectionKey> closed = new HashSet<>();
    for (Path table : tables) {
      byte[] text;
      try {
        text = Files.readAllBytes(table);
      } catch (IOException e) {
        continue;
      }
      parse(new String(text, StandardCharsets.US_ASCII), closed);
    }
    return closed;
  }

  /** Adds the CLOSE_WAIT connections of one table's text to {@code closed}. */
  static void parse(String table, Set<ConnectionKey> closed) {
    int lineStart = table.indexOf('\n') + 1;
    while (lineStart > 0 && lineStart < table.length()) {
      int lineEnd = table.indexOf('\n', lineStart);
      if (lineEnd < 0) {
        lineEnd = table.length();
      }
      ConnectionKey key = closeWait(table.substring(lineStart, lineEnd).trim());
      if (key != null) {
        closed.add(key);
      }
      lineStart = lineEnd + 1;
    }
  }

  /** "sl: local remote st ...": the connection when its state is CLOSE_WAIT, else null. */
  private static ConnectionKey closeWait(String line) {
    String[] fields = line.split("\\s+", 5);
    if (fields.length < 4 || !fields[3].equals(CLOSE_WAIT)) {
      return null;
    }
    int localColon = fields[1].indexOf(':');
    int remoteColon = fields[2].indexOf(':');
    if (localColon < 0 || remoteColon < 0) {
      return null;
    }
    try {
      return new ConnectionKey(
          address(fields[1].substring(0, localColon)),
          Integer.parseInt(fields[1].substring(localColon + 1), 16),
          address(fields[2].substring(0, remoteColon)),
          Integer.parseInt(fields[2].substring(remoteColon + 1), 16));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * The kernel prints an address as 32-bit words in hexadecimal, each word in the host's byte
   * order (one word for IPv4, four for IPv6); ports are plain hexadecimal numbers.
   */
  static byte[] address(String hex) {
    if (hex.length() != 8 && hex.length() != 32) {
      throw new IllegalArgumentException("not an address: " + hex);
    }
    boolean littleEndian = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    byte[] address = new byte[hex.length() / 2];
    for (int word = 0; word < address.length / 4; word++) {
      for (int i = 0; i < 4; i++) {
        int printed = Integer.parseInt(hex.substring(word * 8 + i * 2, word * 8 + i * 2 + 2), 16);
        address[word * 4 + (littleEndian ? 3 - i : i)] = (byte) printed;
      }
    }
    return address;
  }
}
