package dev.drawbridge.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * The agent's own connection to a backend for a protocol switch: a socket channel, with TLS for
 * {@code https} targets ({@link TlsBackendChannel}). It is blocking, with a read timeout, while the
 * handshake is spoken ({@link #input()}, {@link #output()}), and non-blocking once the connection
 * switched ({@link #read}, {@link #write}), so that an open connection needs no thread of its own.
 *
 * <p>After {@link #switchToNonBlocking()} every method must be called from one thread at a time:
 * the agent's {@link UpgradeLoop}.
 */
class BackendChannel implements AutoCloseable {

  private final SocketChannel channel;

  BackendChannel(SocketChannel channel) {
    this.channel = channel;
  }

  /**
   * Connects to {@code target}, within {@code connectTimeout}, and for {@code https} completes the
   * TLS handshake within {@code connectTimeout} too.
   */
  static BackendChannel open(URI target, Duration connectTimeout) throws IOException {
    boolean tls = "https".equalsIgnoreCase(target.getScheme());
    int port = target.getPort() > 0 ? target.getPort() : tls ? 443 : 80;
    SocketChannel channel = SocketChannel.open();
    try {
      channel.socket().setTcpNoDelay(true);
      channel.socket().setKeepAlive(true);
      channel.socket().connect(new InetSocketAddress(target.getHost(), port), (int) connectTimeout.toMillis());
      return tls ? TlsBackendChannel.handshake(channel, target.getHost(), port, connectTimeout) : new BackendChannel(channel);
    } catch (IOException | RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  /** Bounds each blocking read until {@link #switchToNonBlocking()}. */
  void setReadTimeout(Duration timeout) throws IOException {
    channel.socket().setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis())));
  }

  /** The connection's bytes, blocking with the read timeout: for the handshake with the backend. */
  InputStream input() throws IOException {
    return channel.socket().getInputStream();
  }

  /** Writes to the connection, blocking: for the handshake with the backend. */
  OutputStream output() throws IOException {
    return channel.socket().getOutputStream();
  }

  /** From now on reads and writes never block. */
  void switchToNonBlocking() throws IOException {
    channel.configureBlocking(false);
  }

  SocketChannel channel() {
    return channel;
  }

  /**
   * Reads what the backend sent into {@code target} without blocking.
   *
   * @return bytes read, 0 when none are ready, -1 when the backend closed the connection
   */
  int read(ByteBuffer target) throws IOException {
    return channel.read(target);
  }

  /**
   * Writes as much of {@code source} as the connection takes now.
   *
   * @return bytes taken from {@code source}; 0 when the connection cannot take more now
   */
  int write(ByteBuffer source) throws IOException {
    return channel.write(source);
  }

  /** Sends bytes taken by {@link #write} and still waiting; true when none are left. */
  boolean flush() throws IOException {
    return true;
  }

  /** True when bytes taken by {@link #write} still wait to be sent. */
  boolean hasPendingOutput() {
    return false;
  }

  /** Closes the connection. */
  @Override
  public void close() {
    closeQuietly(channel);
  }

  private static void closeQuietly(SocketChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // Cleanup.
    }
  }
}
