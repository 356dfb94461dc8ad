package dev.drawbridge.agent;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * The agent's own connection to a backend for a protocol switch: a socket channel, with TLS
 * through an {@link SSLEngine} for {@code https} targets (host name verified, SNI sent, the JVM's
 * trust settings). It is blocking, with a read timeout, while the handshake is spoken ({@link
 * #input()}, {@link #output()}), and non-blocking once the connection switched ({@link #read},
 * {@link #write}), so that an open connection needs no thread of its own.
 *
 * <p>After {@link #switchToNonBlocking()} every method must be called from one thread at a time:
 * the agent's {@link UpgradeLoop}.
 */
final class BackendChannel implements AutoCloseable {

  private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

  private final SocketChannel channel;
  private final SSLEngine engine;
  /** Encrypted bytes received and not yet unwrapped; read mode. */
  private ByteBuffer netIn;
  /** Decrypted bytes not yet taken; read mode. */
  private ByteBuffer appIn;
  /** Encrypted bytes not yet sent; read mode. */
  private ByteBuffer netOut;
  private boolean inboundClosed;

  private BackendChannel(SocketChannel channel, SSLEngine engine) {
    this.channel = channel;
    this.engine = engine;
    if (engine != null) {
      int packet = engine.getSession().getPacketBufferSize();
      netIn = ByteBuffer.allocate(packet).flip();
      appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize()).flip();
      netOut = ByteBuffer.allocate(packet).flip();
    }
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
      if (!tls) {
        return new BackendChannel(channel, null);
      }
      SSLEngine engine = engine(target.getHost(), port);
      BackendChannel secure = new BackendChannel(channel, engine);
      secure.setReadTimeout(connectTimeout);
      secure.handshake();
      return secure;
    } catch (IOException | RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  private static SSLEngine engine(String host, int port) throws IOException {
    SSLContext context;
    try {
      context = SSLContext.getDefault();
    } catch (NoSuchAlgorithmException e) {
      throw new SSLException("no TLS implementation: " + e.getMessage(), e);
    }
    SSLEngine engine = context.createSSLEngine(host, port);
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    if (!isIpLiteral(host)) {
      parameters.setServerNames(List.of(new SNIHostName(host)));
    }
    // No ALPN: a switch is an HTTP/1.1 affair.
    engine.setSSLParameters(parameters);
    return engine;
  }

  private static boolean isIpLiteral(String host) {
    return host.indexOf(':') >= 0 || host.matches("[0-9.]+");
  }

  /** Bounds each blocking read until {@link #switchToNonBlocking()}. */
  void setReadTimeout(Duration timeout) throws IOException {
    channel.socket().setSoTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis())));
  }

  /** The TLS handshake, blocking. */
  private void handshake() throws IOException {
    engine.beginHandshake();
    while (true) {
      switch (engine.getHandshakeStatus()) {
        case NEED_WRAP:
          wrap(NOTHING);
          flushBlocking();
          break;
        case NEED_UNWRAP:
        case NEED_UNWRAP_AGAIN:
          SSLEngineResult result = unwrap();
          if (result.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && fillBlocking() < 0) {
            throw new EOFException("the backend closed the connection during the TLS handshake");
          }
          if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
            throw new SSLException("the backend closed TLS during the handshake");
          }
          break;
        case NEED_TASK:
          runTasks();
          break;
        default:
          flushBlocking();
          return;
      }
    }
  }

  /** The connection's bytes, blocking with the read timeout: for the handshake with the backend. */
  InputStream input() throws IOException {
    InputStream raw = channel.socket().getInputStream();
    if (engine == null) {
      return raw;
    }
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xFF;
      }

      @Override
      public int read(byte[] target, int offset, int length) throws IOException {
        if (length == 0) {
          return 0;
        }
        while (!appIn.hasRemaining()) {
          if (inboundClosed) {
            return -1;
          }
          SSLEngineResult result = unwrap();
          afterUnwrapBlocking(result);
          boolean progress = result.bytesConsumed() > 0 || result.bytesProduced() > 0;
          if ((result.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW
                  || (result.getStatus() == SSLEngineResult.Status.OK && !progress))
              && fillBlocking() < 0) {
            return -1;
          }
        }
        int n = Math.min(length, appIn.remaining());
        appIn.get(target, offset, n);
        return n;
      }
    };
  }

  /** Writes to the connection, blocking: for the handshake with the backend. */
  OutputStream output() throws IOException {
    OutputStream raw = channel.socket().getOutputStream();
    if (engine == null) {
      return raw;
    }
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] source, int offset, int length) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(source, offset, length);
        while (bytes.hasRemaining()) {
          wrap(bytes);
          flushBlocking();
        }
      }
    };
  }

  private void afterUnwrapBlocking(SSLEngineResult result) throws IOException {
    switch (result.getHandshakeStatus()) {
      case NEED_TASK:
        runTasks();
        break;
      case NEED_WRAP:
        wrap(NOTHING);
        flushBlocking();
        break;
      default:
        break;
    }
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
    if (engine == null) {
      return channel.read(target);
    }
    while (true) {
      if (appIn.hasRemaining()) {
        int n = Math.min(target.remaining(), appIn.remaining());
        ByteBuffer slice = appIn.slice().limit(n);
        target.put(slice);
        appIn.position(appIn.position() + n);
        return n;
      }
      if (inboundClosed) {
        return -1;
      }
      SSLEngineResult result = unwrap();
      if (result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
        runTasks();
      }
      if (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
        // A post-handshake message (a key update) wants an answer.
        wrap(NOTHING);
        flush();
      }
      boolean progress = result.bytesConsumed() > 0 || result.bytesProduced() > 0;
      if (result.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW
          || (result.getStatus() == SSLEngineResult.Status.OK && !progress)) {
        int n = fill();
        if (n == 0) {
          return 0;
        }
        if (n < 0) {
          inboundClosed = true;
        }
      }
    }
  }

  /**
   * Writes as much of {@code source} as the connection takes now.
   *
   * @return bytes taken from {@code source}; 0 when the connection cannot take more now
   */
  int write(ByteBuffer source) throws IOException {
    if (engine == null) {
      return channel.write(source);
    }
    if (!flush()) {
      return 0;
    }
    int before = source.remaining();
    wrap(source);
    flush();
    return before - source.remaining();
  }

  /** Sends encrypted bytes still waiting; true when none are left. */
  boolean flush() throws IOException {
    if (engine == null) {
      return true;
    }
    while (netOut.hasRemaining()) {
      if (channel.write(netOut) == 0) {
        return false;
      }
    }
    return true;
  }

  /** True when bytes taken by {@link #write} still wait to be sent. */
  boolean hasPendingOutput() {
    return engine != null && netOut.hasRemaining();
  }

  private SSLEngineResult unwrap() throws SSLException {
    appIn.compact();
    try {
      while (true) {
        SSLEngineResult result = engine.unwrap(netIn, appIn);
        if (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
          appIn = grow(appIn, engine.getSession().getApplicationBufferSize());
          continue;
        }
        if (result.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW
            && netIn.capacity() < engine.getSession().getPacketBufferSize()) {
          netIn = grownReadMode(netIn, engine.getSession().getPacketBufferSize());
        }
        if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
          inboundClosed = true;
        }
        return result;
      }
    } finally {
      appIn.flip();
    }
  }

  private void wrap(ByteBuffer source) throws SSLException {
    netOut.compact();
    try {
      while (true) {
        SSLEngineResult result = engine.wrap(source, netOut);
        if (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
          netOut = grow(netOut, engine.getSession().getPacketBufferSize());
          continue;
        }
        if (result.getStatus() == SSLEngineResult.Status.CLOSED && source.hasRemaining()) {
          throw new SSLException("TLS to the backend is closed");
        }
        return;
      }
    } finally {
      netOut.flip();
    }
  }

  /** A buffer in write mode with room for {@code atLeast} more bytes, keeping what it holds. */
  private static ByteBuffer grow(ByteBuffer writeMode, int atLeast) {
    ByteBuffer bigger = ByteBuffer.allocate(writeMode.position() + atLeast);
    writeMode.flip();
    bigger.put(writeMode);
    return bigger;
  }

  private static ByteBuffer grownReadMode(ByteBuffer readMode, int capacity) {
    ByteBuffer bigger = ByteBuffer.allocate(capacity);
    bigger.put(readMode);
    return bigger.flip();
  }

  private int fill() throws IOException {
    netIn.compact();
    try {
      return channel.read(netIn);
    } finally {
      netIn.flip();
    }
  }

  private int fillBlocking() throws IOException {
    netIn.compact();
    try {
      int n = channel.socket().getInputStream().read(netIn.array(), netIn.arrayOffset() + netIn.position(), netIn.remaining());
      if (n > 0) {
        netIn.position(netIn.position() + n);
      }
      return n;
    } finally {
      netIn.flip();
    }
  }

  private void flushBlocking() throws IOException {
    while (netOut.hasRemaining()) {
      channel.write(netOut);
    }
  }

  private void runTasks() {
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) {
      task.run();
    }
  }

  /**
   * Closes the connection, with a TLS close notification when the connection is non-blocking and
   * it can go out at once.
   */
  @Override
  public void close() {
    if (engine != null && channel.isOpen() && !channel.isBlocking()) {
      try {
        engine.closeOutbound();
        wrap(NOTHING);
        flush();
      } catch (IOException | RuntimeException ignored) {
        // Closing anyway.
      }
    }
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
