package dev.drawbridge.agent;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
 * A {@link BackendChannel} to an {@code https} target: TLS through an {@link SSLEngine}, with the
 * host name verified, SNI sent and the JVM's trust settings. The handshake is done blocking when
 * the channel opens; the engine's buffers then carry the connection's bytes both ways.
 */
final class TlsBackendChannel extends BackendChannel {

  private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

  private final SSLEngine engine;
  /** Encrypted bytes received and not yet unwrapped; read mode. */
  private ByteBuffer netIn;
  /** Decrypted bytes not yet taken; read mode. */
  private ByteBuffer appIn;
  /** Encrypted bytes not yet sent; read mode. */
  private ByteBuffer netOut;
  private boolean inboundClosed;

  private TlsBackendChannel(SocketChannel channel, SSLEngine engine) {
    super(channel);
    this.engine = engine;
    int packet = engine.getSession().getPacketBufferSize();
    netIn = ByteBuffer.allocate(packet).flip();
    appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize()).flip();
    netOut = ByteBuffer.allocate(packet).flip();
  }

  /** Speaks TLS on the connected {@code channel} to {@code host}, the handshake within {@code timeout}. */
  static TlsBackendChannel handshake(SocketChannel channel, String host, int port, Duration timeout) throws IOException {
    TlsBackendChannel secure = new TlsBackendChannel(channel, engine(host, port));
    secure.setReadTimeout(timeout);
    secure.handshake();
    return secure;
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

  @Override
  InputStream input() {
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

  @Override
  OutputStream output() {
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

  @Override
  int read(ByteBuffer target) throws IOException {
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

  @Override
  int write(ByteBuffer source) throws IOException {
    if (!flush()) {
      return 0;
    }
    int before = source.remaining();
    wrap(source);
    flush();
    return before - source.remaining();
  }

  @Override
  boolean flush() throws IOException {
    while (netOut.hasRemaining()) {
      if (channel().write(netOut) == 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  boolean hasPendingOutput() {
    return netOut.hasRemaining();
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
      return channel().read(netIn);
    } finally {
      netIn.flip();
    }
  }

  private int fillBlocking() throws IOException {
    netIn.compact();
    try {
      int n = channel().socket().getInputStream().read(netIn.array(), netIn.arrayOffset() + netIn.position(), netIn.remaining());
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
      channel().write(netOut);
    }
  }

  private void runTasks() {
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) {
      task.run();
    }
  }

  /** Closes with a TLS close notification when the connection is non-blocking and it can go out at once. */
  @Override
  public void close() {
    if (channel().isOpen() && !channel().isBlocking()) {
      try {
        engine.closeOutbound();
        wrap(NOTHING);
        flush();
      } catch (IOException | RuntimeException ignored) {
        // Closing anyway.
      }
    }
    super.close();
  }
}
