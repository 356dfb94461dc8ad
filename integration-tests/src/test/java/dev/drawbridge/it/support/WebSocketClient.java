package dev.drawbridge.it.support;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real WebSocket client (the JDK's {@code java.net.http.WebSocket}) that collects whole messages
 * in arrival order, and how the connection ended, on blocking queues for tests to take from.
 */
public final class WebSocketClient implements WebSocket.Listener, AutoCloseable {

  /** A whole message: text, or binary bytes. */
  public record Message(String text, byte[] binary) {}

  /** How the connection ended: a close frame's code, or an error (code -1). */
  public record Ended(int code, String reason, Throwable error) {}

  private final BlockingQueue<Message> messages = new LinkedBlockingQueue<>();
  private final BlockingQueue<Ended> ended = new LinkedBlockingQueue<>();
  private final StringBuilder text = new StringBuilder();
  private final ByteArrayOutputStream binary = new ByteArrayOutputStream();
  private WebSocket webSocket;

  private WebSocketClient() {}

  /** Connects, offering {@code subprotocols}; fails with the handshake's exception. */
  public static WebSocketClient connect(HttpClient http, URI uri, Duration timeout, String... subprotocols) {
    WebSocketClient client = new WebSocketClient();
    WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(timeout);
    if (subprotocols.length > 0) {
      builder.subprotocols(subprotocols[0], java.util.Arrays.copyOfRange(subprotocols, 1, subprotocols.length));
    }
    client.webSocket = builder.buildAsync(uri, client).orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).join();
    return client;
  }

  public WebSocket socket() {
    return webSocket;
  }

  /** Sends a text message; waits only until it is handed to the connection. */
  public void sendText(String message, Duration timeout) {
    webSocket.sendText(message, true).orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).join();
  }

  /** Sends a binary message; waits only until it is handed to the connection. */
  public void sendBinary(byte[] message, Duration timeout) {
    webSocket.sendBinary(ByteBuffer.wrap(message), true).orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).join();
  }

  /** The next whole message, or an assertion failure after {@code within}. */
  public Message take(Duration within) throws InterruptedException {
    Message next = messages.poll(within.toMillis(), TimeUnit.MILLISECONDS);
    if (next == null) {
      Ended end = ended.peek();
      throw new AssertionError("no WebSocket message arrived within " + within
          + (end == null ? "" : "; the connection had ended: " + end));
    }
    return next;
  }

  /** The next whole message if one arrives within {@code within}, else null. */
  public Message nextWithin(Duration within) throws InterruptedException {
    return messages.poll(within.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * The next whole message, or null as soon as the connection ended without one; an assertion
   * failure after {@code within}. Looks at both queues in short slices, so an end is seen at once.
   */
  public Message takeUnlessEnded(Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      Message next = messages.poll(20, TimeUnit.MILLISECONDS);
      if (next != null) {
        return next;
      }
      if (!ended.isEmpty()) {
        // A message that arrived just before the end still counts.
        return messages.poll();
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("no WebSocket message arrived within " + within + ", and the connection is still open");
      }
    }
  }

  /** How the connection ended, or an assertion failure after {@code within}. */
  public Ended awaitEnd(Duration within) throws InterruptedException {
    Ended end = ended.poll(within.toMillis(), TimeUnit.MILLISECONDS);
    if (end == null) {
      throw new AssertionError("the WebSocket did not end within " + within);
    }
    return end;
  }

  @Override
  public void onOpen(WebSocket socket) {
    socket.request(1);
  }

  @Override
  public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
    text.append(data);
    if (last) {
      messages.add(new Message(text.toString(), null));
      text.setLength(0);
    }
    socket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onBinary(WebSocket socket, ByteBuffer data, boolean last) {
    byte[] bytes = new byte[data.remaining()];
    data.get(bytes);
    binary.writeBytes(bytes);
    if (last) {
      messages.add(new Message(null, binary.toByteArray()));
      binary.reset();
    }
    socket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
    ended.add(new Ended(statusCode, reason, null));
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public void onError(WebSocket socket, Throwable error) {
    ended.add(new Ended(-1, null, error));
  }

  /** Closes normally (1000) unless already closed. */
  @Override
  public void close() {
    if (!webSocket.isOutputClosed()) {
      webSocket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
    }
    webSocket.abort();
  }
}
