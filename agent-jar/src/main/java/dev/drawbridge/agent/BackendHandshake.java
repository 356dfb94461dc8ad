package dev.drawbridge.agent;

import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.HeaderValidation;
import dev.drawbridge.protocol.HopByHop;
import dev.drawbridge.protocol.RequestHead;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.impl.io.DefaultHttpResponseParser;
import org.apache.hc.core5.http.impl.io.SessionInputBufferImpl;

/**
 * The agent's side of a protocol-switch handshake with the backend, spoken over a socket of its
 * own (HttpClient 5 has no way to hand over a connection after a 101): opens the connection,
 * plain or TLS as the target's scheme says, writes the client's request with {@code Connection:
 * Upgrade} and the offered protocols, and reads the backend's answer head. Interim answers other
 * than 101 (100 Continue, 103 Early Hints) are skipped.
 */
final class BackendHandshake {

  /** Largest answer head read from the backend, as the proxy's own head limit. */
  private static final int MAX_HEAD = 64 * 1024;

  private final Socket socket;
  private final SessionInputBufferImpl backendIn;
  private final InputStream socketIn;
  private final ClassicHttpResponse answer;

  private BackendHandshake(Socket socket, SessionInputBufferImpl backendIn, InputStream socketIn, ClassicHttpResponse answer) {
    this.socket = socket;
    this.backendIn = backendIn;
    this.socketIn = socketIn;
    this.answer = answer;
  }

  /**
   * Sends {@code clientRequest} to the backend and reads its answer head.
   *
   * @throws IOException when the backend cannot be reached or answers with broken HTTP
   */
  static BackendHandshake perform(RequestHead clientRequest, AgentConfig config) throws IOException {
    Socket socket = open(config.target(), config.connectTimeout());
    try {
      socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, config.backendTimeout().toMillis()));
      OutputStream out = socket.getOutputStream();
      out.write(requestHead(clientRequest, config));
      out.flush();
      InputStream in = socket.getInputStream();
      // Kept for the connection's life (it holds what came after the head): small.
      SessionInputBufferImpl buffer = new SessionInputBufferImpl(4 * 1024, MAX_HEAD);
      DefaultHttpResponseParser parser =
          new DefaultHttpResponseParser(Http1Config.custom().setMaxLineLength(MAX_HEAD).setMaxHeaderCount(256).build());
      ClassicHttpResponse answer;
      while (true) {
        answer = parser.parse(buffer, in);
        if (answer == null) {
          throw new org.apache.hc.core5.http.NoHttpResponseException("the backend closed the connection without answering");
        }
        if (answer.getCode() >= 200 || answer.getCode() == 101) {
          break;
        }
        parser = new DefaultHttpResponseParser(Http1Config.custom().setMaxLineLength(MAX_HEAD).setMaxHeaderCount(256).build());
      }
      return new BackendHandshake(socket, buffer, in, answer);
    } catch (HttpException e) {
      closeQuietly(socket);
      throw new IOException(new org.apache.hc.core5.http.ProtocolException(e.getMessage(), e));
    } catch (IOException | RuntimeException e) {
      closeQuietly(socket);
      throw e;
    }
  }

  /** Opens a socket to the target, TLS (host name verified, SNI sent) for {@code https}. */
  static Socket open(URI target, Duration connectTimeout) throws IOException {
    boolean tls = "https".equalsIgnoreCase(target.getScheme());
    int port = target.getPort() > 0 ? target.getPort() : tls ? 443 : 80;
    Socket plain = new Socket();
    try {
      plain.setTcpNoDelay(true);
      plain.setKeepAlive(true);
      plain.connect(new InetSocketAddress(target.getHost(), port), (int) connectTimeout.toMillis());
      if (!tls) {
        return plain;
      }
      SSLSocket secure =
          (SSLSocket) ((SSLSocketFactory) SSLSocketFactory.getDefault()).createSocket(plain, target.getHost(), port, true);
      SSLParameters parameters = secure.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      if (!isIpLiteral(target.getHost())) {
        parameters.setServerNames(List.of(new SNIHostName(target.getHost())));
      }
      // No ALPN: a switch is an HTTP/1.1 affair.
      secure.setSSLParameters(parameters);
      secure.setSoTimeout((int) connectTimeout.toMillis());
      secure.startHandshake();
      return secure;
    } catch (IOException | RuntimeException e) {
      closeQuietly(plain);
      throw e;
    }
  }

  private static boolean isIpLiteral(String host) {
    return host.indexOf(':') >= 0 || host.matches("[0-9.]+");
  }

  /** The request head the backend gets: the client's end-to-end headers plus the switch offer. */
  static byte[] requestHead(RequestHead clientRequest, AgentConfig config) {
    StringBuilder head = new StringBuilder(512);
    String path = BackendRequest.path(config.targetBasePath(), clientRequest.target());
    head.append(clientRequest.method()).append(' ').append(path).append(" HTTP/1.1\r\n");
    boolean hostSent = false;
    for (HeaderField field : HopByHop.endToEnd(clientRequest.headers())) {
      String name = field.name();
      boolean host = name.equalsIgnoreCase("host");
      if ((host && !config.preserveHost())
          || name.equalsIgnoreCase("content-length")
          || name.equalsIgnoreCase("expect")
          // Never re-serialise a header that could split the message (RFC 9110 section 5.5).
          || !HeaderValidation.isValidName(name)
          || !HeaderValidation.isValidValue(field.value())) {
        continue;
      }
      hostSent |= host;
      head.append(name).append(": ").append(field.value()).append("\r\n");
    }
    if (!hostSent) {
      URI target = config.target();
      head.append("Host: ").append(target.getHost().indexOf(':') >= 0 ? "[" + target.getHost() + "]" : target.getHost());
      if (target.getPort() > 0) {
        head.append(':').append(target.getPort());
      }
      head.append("\r\n");
    }
    String upgrade = clientRequest.upgrade();
    if (!HeaderValidation.isValidValue(upgrade)) {
      upgrade = "websocket";
    }
    head.append("Connection: Upgrade\r\nUpgrade: ").append(upgrade).append("\r\n\r\n");
    return head.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  /** The backend's answer head. */
  ClassicHttpResponse answer() {
    return answer;
  }

  /** Every answer header, in order, for the relay to filter. */
  List<HeaderField> answerHeaders() {
    Header[] all = answer.getHeaders();
    List<HeaderField> fields = new ArrayList<>(all.length);
    for (Header header : all) {
      fields.add(new HeaderField(header.getName(), header.getValue()));
    }
    return fields;
  }

  /** The connection, for the bytes after the answer head. */
  Socket socket() {
    return socket;
  }

  /** What the backend sent after its head, then the socket's further bytes. */
  InputStream bytesAfterHead() {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xFF;
      }

      @Override
      public int read(byte[] target, int offset, int length) throws IOException {
        return backendIn.read(target, offset, length, socketIn);
      }
    };
  }

  /** The backend's session buffer and stream, for decoding a refused answer's body. */
  SessionInputBufferImpl buffer() {
    return backendIn;
  }

  InputStream socketIn() {
    return socketIn;
  }

  void close() {
    closeQuietly(socket);
  }

  static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Cleanup.
    }
  }
}
