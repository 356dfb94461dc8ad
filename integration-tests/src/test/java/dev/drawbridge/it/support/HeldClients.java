package dev.drawbridge.it.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Many clients at once, each one HTTP/1.1 {@code GET} on its own connection, held open until it is
 * answered: raw non-blocking sockets and a single selector, so a test can hold 10,000 waiting
 * clients without 10,000 threads. Each request says {@code Connection: close}, so a response ends
 * with its connection.
 */
public final class HeldClients implements AutoCloseable {

  private final InetSocketAddress proxy;
  private final String host;
  private final List<Client> clients = new ArrayList<>();

  /** An answered client: the status and the (dechunked) body; status -1 when no head came. */
  public record Answer(int status, String body) {}

  private HeldClients(int port) {
    this.proxy = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    this.host = "127.0.0.1:" + port;
  }

  /** Clients of the server at 127.0.0.1:{@code port}; none connected yet. */
  public static HeldClients to(int port) {
    return new HeldClients(port);
  }

  /** Connects one more client and sends its {@code GET target}; it then waits for its answer. */
  public void send(String target) {
    try {
      SocketChannel channel = SocketChannel.open(proxy);
      channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
      ByteBuffer request =
          ByteBuffer.wrap(("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      while (request.hasRemaining()) {
        channel.write(request);
      }
      channel.configureBlocking(false);
      clients.add(new Client(target, channel));
    } catch (IOException e) {
      throw new UncheckedIOException("client " + clients.size() + " could not connect and send " + target, e);
    }
  }

  /** Clients connected so far. */
  public int size() {
    return clients.size();
  }

  /**
   * Reads every client's response to the end of its connection, on this thread.
   *
   * @return each target's answer
   * @throws AssertionError naming how many were unanswered if {@code timeout} passes first
   */
  public Map<String, Answer> awaitAnswers(Duration timeout) throws IOException {
    Map<String, Answer> answers = new HashMap<>();
    ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Selector selector = Selector.open()) {
      for (Client client : clients) {
        client.channel.register(selector, SelectionKey.OP_READ, client);
      }
      while (answers.size() < clients.size()) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          throw new AssertionError((clients.size() - answers.size()) + " of " + clients.size()
              + " clients had no complete answer within " + timeout);
        }
        selector.select(left);
        for (SelectionKey key : selector.selectedKeys()) {
          Client client = (Client) key.attachment();
          if (client.readFrom(buffer)) {
            key.cancel();
            client.channel.close();
            answers.put(client.target, client.answer());
          }
        }
        selector.selectedKeys().clear();
      }
    }
    return answers;
  }

  @Override
  public void close() {
    for (Client client : clients) {
      try {
        client.channel.close();
      } catch (IOException ignored) {
        // Closing test sockets; nothing to report.
      }
    }
  }

  /** One held client and what it received so far. */
  private static final class Client {
    private final String target;
    private final SocketChannel channel;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();

    Client(String target, SocketChannel channel) {
      this.target = target;
      this.channel = channel;
    }

    /** Reads what is there; true once the server closed the connection (or it broke). */
    boolean readFrom(ByteBuffer buffer) {
      try {
        while (true) {
          buffer.clear();
          int n = channel.read(buffer);
          if (n < 0) {
            return true;
          }
          if (n == 0) {
            return false;
          }
          received.write(buffer.array(), 0, n);
        }
      } catch (IOException e) {
        return true;
      }
    }

    Answer answer() {
      byte[] bytes = received.toByteArray();
      String text = new String(bytes, StandardCharsets.ISO_8859_1);
      int headEnd = text.indexOf("\r\n\r\n");
      if (!text.startsWith("HTTP/1.1 ") || headEnd < 0) {
        return new Answer(-1, text);
      }
      int status = Integer.parseInt(text.substring(9, 12));
      String head = text.substring(0, headEnd).toLowerCase(java.util.Locale.ROOT);
      String body = text.substring(headEnd + 4);
      if (head.contains("\r\ntransfer-encoding: chunked")) {
        body = dechunk(body);
      }
      return new Answer(status, new String(body.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
    }

    /** A complete chunked body (RFC 9112 section 7.1) without its framing; trailers dropped. */
    private static String dechunk(String chunked) {
      StringBuilder body = new StringBuilder();
      int at = 0;
      while (true) {
        int lineEnd = chunked.indexOf("\r\n", at);
        if (lineEnd < 0) {
          return body + "(chunked body cut short)";
        }
        String size = chunked.substring(at, lineEnd);
        int extension = size.indexOf(';');
        int length = Integer.parseInt((extension < 0 ? size : size.substring(0, extension)).trim(), 16);
        if (length == 0) {
          return body.toString();
        }
        body.append(chunked, lineEnd + 2, Math.min(chunked.length(), lineEnd + 2 + length));
        at = lineEnd + 2 + length + 2;
      }
    }
  }
}
