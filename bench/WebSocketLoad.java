import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmark's WebSocket client (the JDK's): round-trip latency of one connection sending a
 * message and waiting for its echo, then messages per second over several connections that each
 * keep a window of messages in flight. Prints one JSON line. Run with {@code java
 * bench/WebSocketLoad.java URL CONNECTIONS SECONDS MESSAGE_BYTES}.
 */
public class WebSocketLoad {

  private static final int WINDOW = 16;

  public static void main(String[] args) throws Exception {
    URI uri = URI.create(args[0]);
    int connections = Integer.parseInt(args[1]);
    long nanos = TimeUnit.SECONDS.toNanos(Long.parseLong(args[2]));
    byte[] message = new byte[Integer.parseInt(args[3])];
    Arrays.fill(message, (byte) 'x');
    HttpClient http = HttpClient.newHttpClient();

    // Latency: one connection, one message at a time, for half the time.
    LinkedBlockingQueue<Long> echoes = new LinkedBlockingQueue<>();
    WebSocket one = http.newWebSocketBuilder().buildAsync(uri, counting(echoes::add)).get(30, TimeUnit.SECONDS);
    List<Long> rounds = new ArrayList<>();
    long end = System.nanoTime() + nanos / 2;
    while (System.nanoTime() < end) {
      long sent = System.nanoTime();
      one.sendBinary(ByteBuffer.wrap(message), true).get(30, TimeUnit.SECONDS);
      if (echoes.poll(30, TimeUnit.SECONDS) == null) {
        throw new IllegalStateException("no echo within 30 s");
      }
      rounds.add(System.nanoTime() - sent);
    }
    one.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(30, TimeUnit.SECONDS);
    long[] sorted = rounds.stream().mapToLong(Long::longValue).sorted().toArray();

    // Throughput: every connection keeps WINDOW messages in flight, for the other half.
    AtomicLong received = new AtomicLong();
    List<WebSocket> sockets = new ArrayList<>();
    List<LinkedBlockingQueue<Long>> queues = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      LinkedBlockingQueue<Long> queue = new LinkedBlockingQueue<>();
      queues.add(queue);
      sockets.add(http.newWebSocketBuilder().buildAsync(uri, counting(n -> {
        received.incrementAndGet();
        queue.add(n);
      })).get(30, TimeUnit.SECONDS));
    }
    long start = System.nanoTime();
    long stop = start + nanos / 2;
    CountDownLatch done = new CountDownLatch(connections);
    for (int i = 0; i < connections; i++) {
      WebSocket socket = sockets.get(i);
      LinkedBlockingQueue<Long> queue = queues.get(i);
      Thread thread = new Thread(() -> {
        try {
          int inFlight = 0;
          while (System.nanoTime() < stop) {
            while (inFlight < WINDOW) {
              socket.sendBinary(ByteBuffer.wrap(message), true).get(30, TimeUnit.SECONDS);
              inFlight++;
            }
            if (queue.poll(30, TimeUnit.SECONDS) == null) {
              throw new IllegalStateException("no echo within 30 s");
            }
            inFlight--;
          }
        } catch (Exception e) {
          e.printStackTrace();
        } finally {
          done.countDown();
        }
      });
      thread.setDaemon(true);
      thread.start();
    }
    done.await();
    double seconds = (System.nanoTime() - start) / 1e9;
    long count = received.get();
    for (WebSocket socket : sockets) {
      socket.abort();
    }
    System.out.printf("{\"p50\": %.3f, \"p99\": %.3f, \"mps\": %.1f, \"rounds\": %d}%n",
        sorted[sorted.length / 2] / 1e6, sorted[(int) (sorted.length * 0.99)] / 1e6, count / seconds, sorted.length);
  }

  /** A listener that reports each whole message and asks for the next. */
  private static WebSocket.Listener counting(java.util.function.LongConsumer onMessage) {
    return new WebSocket.Listener() {
      @Override
      public void onOpen(WebSocket socket) {
        socket.request(1);
      }

      @Override
      public CompletionStage<?> onBinary(WebSocket socket, ByteBuffer data, boolean last) {
        if (last) {
          onMessage.accept(System.nanoTime());
        }
        socket.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
        if (last) {
          onMessage.accept(System.nanoTime());
        }
        socket.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onClose(WebSocket socket, int code, String reason) {
        return CompletableFuture.completedFuture(null);
      }
    };
  }
}
