package dev.drawbridge.it.support;

import dev.drawbridge.protocol.HeaderField;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * An HTTP/1.1 client on a bare socket, for what {@code java.net.http} refuses to send or hides:
 * hop-by-hop headers ({@code Connection}, {@code Upgrade}, {@code TE} ...), {@code Expect:
 * 100-continue} with the interim answer, hand-made chunked bodies, byte-exact request targets,
 * and a connection the test closes at a moment of its choosing. Every read is bounded by the
 * socket's read timeout, so a silent peer fails the test instead of hanging it.
 */
public final class RawHttp implements AutoCloseable {

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private RawHttp(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  /** Connects to 127.0.0.1:{@code port}; every later read fails after {@code readTimeout} of silence. */
  public static RawHttp connect(int port, Duration readTimeout) {
    try {
      Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
      socket.setSoTimeout((int) readTimeout.toMillis());
      socket.setTcpNoDelay(true);
      return new RawHttp(socket);
    } catch (IOException e) {
      throw new UncheckedIOException("could not connect to 127.0.0.1:" + port, e);
    }
  }

  /** A response head: status line parts and header fields in arrival order. */
  public record Head(int status, String reason, List<HeaderField> headers) {

    /** The first value of {@code name} (case-insensitive), if any. */
    public Optional<String> header(String name) {
      return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(HeaderField::value).findFirst();
    }

    /** Every value of {@code name} (case-insensitive), in arrival order. */
    public List<String> headerValues(String name) {
      return headers.stream().filter(h -> h.name().equalsIgnoreCase(name)).map(HeaderField::value).toList();
    }

    /** True when the body is chunked. */
    public boolean chunked() {
      return headerValues("Transfer-Encoding").stream()
          .anyMatch(v -> v.toLowerCase(Locale.ROOT).contains("chunked"));
    }
  }

  /** A whole response. */
  public record Response(Head head, byte[] body) {

    public int status() {
      return head.status();
    }

    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** Writes {@code text} (a request head, chunk sizes ...) as ISO-8859-1 and flushes. */
  public RawHttp write(String text) throws IOException {
    return write(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Writes raw bytes and flushes. */
  public RawHttp write(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  /** Writes {@code bytes} as one chunk of a chunked body. */
  public RawHttp writeChunk(byte[] bytes) throws IOException {
    out.write((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    out.write(bytes);
    out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    return this;
  }

  /**
   * Starts a {@code POST} to {@code target} whose body is chunked or declared as {@code declared}
   * bytes, and sends {@code part} of it (one chunk when chunked) without ending it: a test that
   * then closes the connection has abandoned an upload midway.
   */
  public RawHttp beginUpload(String target, String host, boolean chunked, long declared, byte[] part)
      throws IOException {
    write("POST " + target + " HTTP/1.1\r\nHost: " + host + "\r\n"
        + (chunked ? "Transfer-Encoding: chunked" : "Content-Length: " + declared) + "\r\n\r\n");
    return chunked ? writeChunk(part) : write(part);
  }

  /** Ends a chunked body. */
  public RawHttp endChunks() throws IOException {
    return write("0\r\n\r\n");
  }

  /** The output stream, for large bodies written by the test. */
  public OutputStream output() {
    return out;
  }

  /** Reads the next response head, interim (1xx) ones included. */
  public Head readHead() throws IOException {
    String statusLine = readLine();
    // "HTTP/1.1 200 OK"; the reason phrase may be empty or absent.
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
      throw new IOException("not an HTTP status line: " + statusLine);
    }
    int status = Integer.parseInt(parts[1]);
    String reason = parts.length == 3 ? parts[2] : "";
    List<HeaderField> headers = new ArrayList<>();
    for (String line = readLine(); !line.isEmpty(); line = readLine()) {
      int colon = line.indexOf(':');
      headers.add(new HeaderField(line.substring(0, colon).trim(), line.substring(colon + 1).trim()));
    }
    return new Head(status, reason, headers);
  }

  /** Reads the next final response head, passing over interim (1xx) ones. */
  public Head readFinalHead() throws IOException {
    Head head = readHead();
    while (head.status() >= 100 && head.status() < 200) {
      head = readHead();
    }
    return head;
  }

  /**
   * The body of the response with {@code head} to a {@code method} request, decoded (chunked or
   * Content-Length or until close). The stream throws {@link EOFException} when the connection ends
   * before the body does, so a cut body never looks complete.
   */
  public InputStream body(Head head, String method) {
    if (method.equals("HEAD") || head.status() == 204 || head.status() == 304 || head.status() < 200) {
      return InputStream.nullInputStream();
    }
    if (head.chunked()) {
      return new ChunkedBody();
    }
    Optional<String> length = head.header("Content-Length");
    if (length.isPresent()) {
      return new FixedBody(Long.parseLong(length.get()));
    }
    return in;
  }

  /** Reads a whole final response (head and body) to a {@code method} request. */
  public Response readResponse(String method) throws IOException {
    Head head = readFinalHead();
    try (InputStream body = body(head, method)) {
      return new Response(head, body.readAllBytes());
    }
  }

  /** Sends a request without body and reads the response; a one-line convenience. */
  public Response exchange(String method, String target, String host, List<String> extraHeaderLines)
      throws IOException {
    StringBuilder request = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n");
    for (String line : extraHeaderLines) {
      request.append(line).append("\r\n");
    }
    write(request.append("\r\n").toString());
    return readResponse(method);
  }

  /** True once the peer closed its side: a read returns end of stream. */
  public boolean peerClosed() throws IOException {
    return in.read() == -1;
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Closing a test socket; nothing to report.
    }
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b == -1) {
        throw new EOFException("connection closed in the middle of a response head; got: " + line);
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
    }
  }

  /** A Content-Length body. */
  private final class FixedBody extends InputStream {
    private long remaining;

    FixedBody(long length) {
      this.remaining = length;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      if (remaining == 0) {
        return -1;
      }
      int n = in.read(buffer, offset, (int) Math.min(length, remaining));
      if (n == -1) {
        throw new EOFException("connection closed with " + remaining + " body bytes still due");
      }
      remaining -= n;
      return n;
    }
  }

  /** A chunked body (RFC 9112 section 7.1); trailers are read and dropped. */
  private final class ChunkedBody extends InputStream {
    private long chunkLeft;
    private boolean ended;
    private boolean chunkDataEnded;

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      if (ended) {
        return -1;
      }
      if (chunkLeft == 0) {
        if (chunkDataEnded) {
          // The CRLF closing a chunk's data is read only now: servers such as Jetty send it in
          // front of the next chunk, so reading it eagerly would stall a live event stream.
          readLine();
          chunkDataEnded = false;
        }
        String sizeLine = readLine();
        int extension = sizeLine.indexOf(';');
        chunkLeft = Long.parseLong((extension >= 0 ? sizeLine.substring(0, extension) : sizeLine).trim(), 16);
        if (chunkLeft == 0) {
          for (String trailer = readLine(); !trailer.isEmpty(); trailer = readLine()) {
            // Trailers are not under test.
          }
          ended = true;
          return -1;
        }
      }
      int n = in.read(buffer, offset, (int) Math.min(length, chunkLeft));
      if (n == -1) {
        throw new EOFException("connection closed in the middle of a chunk, before the last chunk");
      }
      chunkLeft -= n;
      chunkDataEnded = chunkLeft == 0;
      return n;
    }
  }
}
