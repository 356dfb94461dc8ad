package dev.drawbridge.it.support;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * A WebSocket client written out by hand (RFC 6455, RFC 7692), for what the JDK's client cannot
 * do: offer permessage-deflate and see the compressed frames, write the exact handshake a browser
 * writes, read the raw answer.
 */
public final class RawWebSocket implements AutoCloseable {

  /** RFC 6455 section 1.3: what the server must append to the key before hashing. */
  private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  /** A frame as read: its opcode, whether RSV1 (compressed) was set, and its payload. */
  public record Frame(int opcode, boolean compressed, byte[] payload) {
    public String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private final int status;
  private final Map<String, String> headers;
  private final String key;

  private RawWebSocket(Socket socket, DataInputStream in, int status, Map<String, String> headers, String key)
      throws IOException {
    this.socket = socket;
    this.in = in;
    this.out = socket.getOutputStream();
    this.status = status;
    this.headers = headers;
    this.key = key;
  }

  /**
   * Sends a handshake for {@code path} on 127.0.0.1:{@code port} with {@code extraHeaders} (each
   * "Name: value") and reads the answer head.
   */
  public static RawWebSocket connect(int port, String path, Duration timeout, String... extraHeaders) throws IOException {
    Socket socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout((int) timeout.toMillis());
    byte[] nonce = new byte[16];
    ThreadLocalRandom.current().nextBytes(nonce);
    String key = Base64.getEncoder().encodeToString(nonce);
    StringBuilder request = new StringBuilder()
        .append("GET ").append(path).append(" HTTP/1.1\r\n")
        .append("Host: 127.0.0.1:").append(port).append("\r\n")
        .append("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n")
        .append("Sec-WebSocket-Key: ").append(key).append("\r\n");
    for (String header : extraHeaders) {
      request.append(header).append("\r\n");
    }
    request.append("\r\n");
    socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
    DataInputStream in = new DataInputStream(socket.getInputStream());
    String statusLine = line(in);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String header = line(in); !header.isEmpty(); header = line(in)) {
      int colon = header.indexOf(':');
      headers.merge(header.substring(0, colon).trim().toLowerCase(Locale.ROOT), header.substring(colon + 1).trim(),
          (a, b) -> a + ", " + b);
    }
    return new RawWebSocket(socket, in, Integer.parseInt(statusLine.split(" ")[1]), headers, key);
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new IOException("the connection ended inside the answer head");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }

  public int status() {
    return status;
  }

  /** Every answer header, names lower-cased. */
  public Map<String, String> headers() {
    return headers;
  }

  /** An answer header (name lower-cased; repeats joined with ", "), or null. */
  public String header(String name) {
    return headers.get(name.toLowerCase(Locale.ROOT));
  }

  /** True when the answer's {@code Sec-WebSocket-Accept} matches the key that was sent. */
  public boolean acceptMatches() {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-1").digest((key + ACCEPT_GUID).getBytes(StandardCharsets.ISO_8859_1));
      return Base64.getEncoder().encodeToString(digest).equals(header("Sec-WebSocket-Accept"));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Sends one masked text frame, compressed with permessage-deflate when {@code compress}. */
  public void sendText(String text, boolean compress) throws IOException {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    if (compress) {
      payload = deflate(payload);
    }
    sendFrame(0x1, compress, payload);
  }

  /** Sends one masked frame. */
  public void sendFrame(int opcode, boolean compressed, byte[] payload) throws IOException {
    ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
    frame.write(0x80 | (compressed ? 0x40 : 0) | opcode);
    if (payload.length < 126) {
      frame.write(0x80 | payload.length);
    } else if (payload.length < 65536) {
      frame.write(0x80 | 126);
      frame.write(payload.length >>> 8);
      frame.write(payload.length);
    } else {
      frame.write(0x80 | 127);
      for (int shift = 56; shift >= 0; shift -= 8) {
        frame.write((int) ((long) payload.length >>> shift));
      }
    }
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    frame.write(mask);
    for (int i = 0; i < payload.length; i++) {
      frame.write(payload[i] ^ mask[i % 4]);
    }
    out.write(frame.toByteArray());
    out.flush();
  }

  /**
   * The body of a refused handshake: the {@code Content-Length} bytes the answer declares, or, when
   * it declares none, whatever arrives within the socket's timeout (at most {@code max}).
   */
  public String readBody(int max) throws IOException {
    String length = header("Content-Length");
    if (length == null) {
      return readRaw(max);
    }
    byte[] body = new byte[Integer.parseInt(length)];
    in.readFully(body);
    return new String(body, StandardCharsets.UTF_8);
  }

  /** Whatever bytes arrive within the socket's timeout, at most {@code max}, for diagnosing. */
  public String readRaw(int max) throws IOException {
    byte[] bytes = new byte[max];
    int n = 0;
    try {
      int r;
      while (n < max && (r = in.read(bytes, n, max - n)) > 0) {
        n += r;
      }
    } catch (java.net.SocketTimeoutException e) {
      // As much as there was.
    }
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int b = bytes[i] & 0xFF;
      text.append(b >= 0x20 && b < 0x7F ? String.valueOf((char) b) : String.format("\\x%02x", b));
    }
    return text.toString();
  }

  /** Reads one frame from the server (unmasked). */
  public Frame readFrame() throws IOException {
    int first = in.readUnsignedByte();
    int second = in.readUnsignedByte();
    long length = second & 0x7F;
    if (length == 126) {
      length = in.readUnsignedShort();
    } else if (length == 127) {
      length = in.readLong();
    }
    byte[] payload = new byte[(int) length];
    in.readFully(payload);
    return new Frame(first & 0x0F, (first & 0x40) != 0, payload);
  }

  /** The text of a compressed frame's payload. */
  public static String inflate(byte[] compressed) {
    Inflater inflater = new Inflater(true);
    byte[] tail = {0, 0, (byte) 0xFF, (byte) 0xFF};
    byte[] input = new byte[compressed.length + tail.length];
    System.arraycopy(compressed, 0, input, 0, compressed.length);
    System.arraycopy(tail, 0, input, compressed.length, tail.length);
    inflater.setInput(input);
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    try {
      int n;
      while ((n = inflater.inflate(buffer)) > 0) {
        text.write(buffer, 0, n);
      }
    } catch (DataFormatException e) {
      throw new IllegalStateException("the frame is not permessage-deflate data", e);
    } finally {
      inflater.end();
    }
    return text.toString(StandardCharsets.UTF_8);
  }

  private static byte[] deflate(byte[] data) {
    Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    deflater.setInput(data);
    ByteArrayOutputStream compressed = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    int n;
    do {
      n = deflater.deflate(buffer, 0, buffer.length, Deflater.SYNC_FLUSH);
      compressed.write(buffer, 0, n);
    } while (n == buffer.length);
    deflater.end();
    byte[] all = compressed.toByteArray();
    // RFC 7692 section 7.2.1: the sender removes the 4-byte tail of the sync flush.
    return java.util.Arrays.copyOf(all, all.length - 4);
  }

  /** True when the server closed the TCP connection (read returns the end). */
  public boolean serverClosed() throws IOException {
    try {
      return in.read() < 0;
    } catch (java.net.SocketException e) {
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
