import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * The benchmark's WebSocket service: echoes every message (RFC 6455, no extensions), one thread
 * per connection, as small as a service can be so the tunnels' costs show. Run with {@code java
 * bench/WebSocketEcho.java PORT}; it binds 127.0.0.1 only.
 */
public class WebSocketEcho {

  private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  public static void main(String[] args) throws Exception {
    try (ServerSocket server = new ServerSocket(Integer.parseInt(args[0]), 1024, InetAddress.getLoopbackAddress())) {
      System.out.println("websocket echo listening on ws://127.0.0.1:" + args[0]);
      while (true) {
        Socket socket = server.accept();
        Thread thread = new Thread(() -> serve(socket));
        thread.setDaemon(true);
        thread.start();
      }
    }
  }

  private static void serve(Socket socket) {
    try (socket) {
      socket.setTcpNoDelay(true);
      DataInputStream in = new DataInputStream(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      String key = null;
      for (String line = line(in); !line.isEmpty(); line = line(in)) {
        if (line.toLowerCase().startsWith("sec-websocket-key:")) {
          key = line.substring(line.indexOf(':') + 1).trim();
        }
      }
      if (key == null) {
        out.write("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        return;
      }
      String accept = Base64.getEncoder().encodeToString(
          MessageDigest.getInstance("SHA-1").digest((key + GUID).getBytes(StandardCharsets.ISO_8859_1)));
      out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      while (true) {
        int first = in.read();
        if (first < 0) {
          return;
        }
        int second = in.readUnsignedByte();
        long length = second & 0x7F;
        if (length == 126) {
          length = in.readUnsignedShort();
        } else if (length == 127) {
          length = in.readLong();
        }
        byte[] mask = new byte[4];
        if ((second & 0x80) != 0) {
          in.readFully(mask);
        }
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        for (int i = 0; i < payload.length; i++) {
          payload[i] ^= mask[i % 4];
        }
        int opcode = first & 0x0F;
        if (opcode == 0x9) {
          first = (first & 0xF0) | 0xA;
        }
        byte[] head = payload.length < 126 ? new byte[] {(byte) first, (byte) payload.length}
            : payload.length < 65536 ? new byte[] {(byte) first, 126, (byte) (payload.length >>> 8), (byte) payload.length}
            : header64(first, payload.length);
        out.write(head);
        out.write(payload);
        out.flush();
        if (opcode == 0x8) {
          return;
        }
      }
    } catch (Exception e) {
      // The client went away; nothing to do for a benchmark service.
    }
  }

  private static byte[] header64(int first, long length) {
    byte[] head = new byte[10];
    head[0] = (byte) first;
    head[1] = 127;
    for (int i = 0; i < 8; i++) {
      head[2 + i] = (byte) (length >>> (56 - 8 * i));
    }
    return head;
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new IOException("connection closed in the handshake");
      }
      if (b != '\r') {
        line.append((char) b);
      }
    }
    return line.toString();
  }
}
