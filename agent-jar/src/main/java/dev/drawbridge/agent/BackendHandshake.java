package dev.drawbridge.agent;

import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.HeaderValidation;
import dev.drawbridge.protocol.HopByHop;
import dev.drawbridge.protocol.RequestHead;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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

  private final BackendChannel channel;
  private final SessionInputBufferImpl backendIn;
  private final InputStream socketIn;
  private final ClassicHttpResponse answer;

  private BackendHandshake(
      BackendChannel channel, SessionInputBufferImpl backendIn, InputStream socketIn, ClassicHttpResponse answer) {
    this.channel = channel;
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
    BackendChannel channel = BackendChannel.open(config.target(), config.connectTimeout());
    try {
      channel.setReadTimeout(config.backendTimeout());
      OutputStream out = channel.output();
      out.write(requestHead(clientRequest, config));
      out.flush();
      InputStream in = channel.input();
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
      return new BackendHandshake(channel, buffer, in, answer);
    } catch (HttpException e) {
      channel.close();
      throw new IOException(new org.apache.hc.core5.http.ProtocolException(e.getMessage(), e));
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
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
  BackendChannel channel() {
    return channel;
  }

  /** What the backend sent right after its answer head, already read with it. */
  byte[] bytesAfterHead() {
    byte[] bytes = new byte[backendIn.length()];
    int filled = 0;
    while (filled < bytes.length) {
      // Served from the buffer alone: the stream is not touched while the buffer holds bytes.
      try {
        filled += backendIn.read(bytes, filled, bytes.length - filled, socketIn);
      } catch (IOException e) {
        throw new IllegalStateException("buffered bytes could not be read", e);
      }
    }
    return bytes;
  }

  /** The backend's session buffer and stream, for decoding a refused answer's body. */
  SessionInputBufferImpl buffer() {
    return backendIn;
  }

  InputStream socketIn() {
    return socketIn;
  }

  void close() {
    channel.close();
  }
}
