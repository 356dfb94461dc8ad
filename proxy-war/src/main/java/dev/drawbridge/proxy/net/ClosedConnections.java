package dev.drawbridge.proxy.net;

import java.util.Set;

/** Where to learn which connections their peer has closed while the server still holds them. */
public interface ClosedConnections {

  /** Nothing is ever known closed: for systems without a readable connection table. */
  ClosedConnections NONE = () -> Set.of();

  /** The server's connections whose peer closed its side and that the server has not closed yet. */
  Set<ConnectionKey> closedByPeer();

  /** The kernel's table where there is one (Linux), else {@link #NONE}. */
  static ClosedConnections ofThisSystem() {
    return LinuxTcpTable.isAvailable() ? new LinuxTcpTable() : NONE;
  }
}
