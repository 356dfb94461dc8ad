package dev.drawbridge.proxy.net;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * One TCP connection as the server sees it: its local and its peer's address and port. Addresses
 * are kept as 4 bytes for IPv4 and for IPv4-mapped IPv6, else 16, so the same connection compares
 * equal whether the kernel lists it as IPv4 or IPv6.
 */
public final class ConnectionKey {

  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private final byte[] local;
  private final int localPort;
  private final byte[] remote;
  private final int remotePort;

  ConnectionKey(byte[] local, int localPort, byte[] remote, int remotePort) {
    this.local = unmapped(local);
    this.localPort = localPort;
    this.remote = unmapped(remote);
    this.remotePort = remotePort;
  }

  /**
   * The connection of a request, from the numeric addresses a servlet container reports (e.g.
   * {@code getLocalAddr()}), or null when one is not a numeric address (a host name would cost a
   * DNS lookup, and such a connection is not in the kernel's table anyway).
   */
  public static ConnectionKey of(String localAddress, int localPort, String remoteAddress, int remotePort) {
    byte[] local = numeric(localAddress);
    byte[] remote = numeric(remoteAddress);
    if (local == null || remote == null || localPort <= 0 || remotePort <= 0) {
      return null;
    }
    return new ConnectionKey(local, localPort, remote, remotePort);
  }

  private static byte[] numeric(String address) {
    if (address == null) {
      return null;
    }
    String literal = address;
    if (literal.startsWith("[") && literal.endsWith("]")) {
      literal = literal.substring(1, literal.length() - 1);
    }
    // Only literals: InetAddress resolves anything else through DNS.
    if (!IPV4.matcher(literal).matches() && literal.indexOf(':') < 0) {
      return null;
    }
    try {
      InetAddress parsed = InetAddress.getByName(literal);
      return parsed instanceof Inet4Address || parsed instanceof Inet6Address ? parsed.getAddress() : null;
    } catch (UnknownHostException | SecurityException e) {
      return null;
    }
  }

  /** ::ffff:a.b.c.d as a.b.c.d. */
  private static byte[] unmapped(byte[] address) {
    if (address.length != 16) {
      return address;
    }
    for (int i = 0; i < 10; i++) {
      if (address[i] != 0) {
        return address;
      }
    }
    if (address[10] != (byte) 0xff || address[11] != (byte) 0xff) {
      return address;
    }
    return Arrays.copyOfRange(address, 12, 16);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof ConnectionKey key
        && localPort == key.localPort
        && remotePort == key.remotePort
        && Arrays.equals(local, key.local)
        && Arrays.equals(remote, key.remote);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * Arrays.hashCode(local) + localPort) + Arrays.hashCode(remote)) + remotePort;
  }

  @Override
  public String toString() {
    return text(local) + ":" + localPort + "<-" + text(remote) + ":" + remotePort;
  }

  private static String text(byte[] address) {
    try {
      return InetAddress.getByAddress(address).getHostAddress();
    } catch (UnknownHostException e) {
      return Arrays.toString(address);
    }
  }
}
