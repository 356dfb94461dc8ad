package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.Tokens;
import dev.drawbridge.protocol.Protocol;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Agent calls whose request head trickles in byte by byte, then stops mid-head (a slowloris on the
 * agent API). The container reads heads without a thread per connection, so more trickling
 * connections than the server has threads do not stop a normal agent from serving clients; and the
 * connector's idle timeout closes each of them once it stops sending.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SlowAgentCallIT {

  /** Forty times the byte interval: a starved machine may pause the tricklers, not trip this. */
  private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(10);
  /** Fewer threads than trickling connections: a thread held per connection would starve the server. */
  private static final int MAX_THREADS = 16;
  private static final int TRICKLERS = 40;
  private static final Duration BYTE_INTERVAL = Duration.ofMillis(250);
  /** Bytes every trickler has sent before the client request starts (1 s of trickling). */
  private static final int BYTES_BEFORE_REQUEST = 4;
  /** Beyond the idle timeout, for a starved machine. */
  private static final Duration MARGIN = Duration.ofSeconds(20);
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void tricklingPollHeadsHoldNoThreadAndAreClosedAtTheIdleTimeout() throws Exception {
    String token = Tokens.random();
    ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
    List<Socket> tricklers = new ArrayList<>();
    try (Backend backend = Backend.start();
        ProxyServer proxy = ProxyServer.start(
            ProxyConfig.singleBackend("default", Tokens.sha256Hex(token)),
            ProxyServer.Options.DEFAULT.withIdleTimeout(IDLE_TIMEOUT).withMaxThreads(MAX_THREADS));
        AgentProcess agent = AgentProcess.connect(proxy.baseUrl(), backend.url(), "default", token, WAIT)) {
      // A genuine agent poll, with a valid token; only its head never ends.
      byte[] head = ("POST " + ProxyServer.CONTEXT_PATH + Protocol.POLL_PATH + "?" + Protocol.BACKEND_PARAM
          + "=default HTTP/1.1\r\nHost: 127.0.0.1:" + proxy.port() + "\r\nAuthorization: Bearer " + token
          + "\r\n" + Protocol.PROTOCOL_HEADER + ": " + Protocol.VERSION + "\r\nContent-Length: 0\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII);
      for (int i = 0; i < TRICKLERS; i++) {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
        socket.setSoTimeout((int) IDLE_TIMEOUT.plus(WAIT).toMillis());
        tricklers.add(socket);
      }

      AtomicInteger sent = new AtomicInteger();
      AtomicBoolean stop = new AtomicBoolean();
      CountDownLatch trickling = new CountDownLatch(BYTES_BEFORE_REQUEST);
      CountDownLatch stopped = new CountDownLatch(1);
      long[] lastByteAt = new long[TRICKLERS];
      ConcurrentLinkedQueue<String> writeFailures = new ConcurrentLinkedQueue<>();
      pacer.scheduleAtFixedRate(() -> {
        int index = sent.get();
        // Never the last byte: the head stays unfinished.
        if (stop.get() || index >= head.length - 1) {
          stopped.countDown();
          throw new IllegalStateException("done trickling");
        }
        for (int i = 0; i < TRICKLERS; i++) {
          try {
            tricklers.get(i).getOutputStream().write(head[index]);
            lastByteAt[i] = System.nanoTime();
          } catch (IOException e) {
            writeFailures.add("trickler " + i + " byte " + index + ": " + e);
          }
        }
        sent.incrementAndGet();
        trickling.countDown();
      }, 0, BYTE_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);

      assertTrue(trickling.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the tricklers started");
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();
      HttpResponse<String> response = client.send(
          HttpRequest.newBuilder(proxy.uri("/while-trickling")).timeout(WAIT).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      int sentByResponse = sent.get();
      assertEquals(200, response.statusCode(), response::body);
      assertEquals("/while-trickling", backend.takeRequest(WAIT).target());

      // At least one more byte after the answer: the tricklers were still at it throughout.
      await("another byte after the answer")
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(20))
          .until(() -> sent.get() > sentByResponse || stopped.getCount() == 0);
      assertTrue(stopped.getCount() == 1, "the head ran out before the request was served");
      stop.set(true);
      assertTrue(stopped.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the tricklers stopped");
      assertTrue(writeFailures.isEmpty(), () -> "a trickling connection broke while it was sending: " + writeFailures);

      for (int i = 0; i < TRICKLERS; i++) {
        Duration open = awaitClosed(tricklers.get(i), lastByteAt[i]);
        int trickler = i;
        assertTrue(open.compareTo(IDLE_TIMEOUT.plus(MARGIN)) <= 0,
            () -> "trickler " + trickler + " was closed " + open + " after its last byte");
        if (i == 0) {
          // Read at once, so this is when the container closed it: by the idle timeout, not a refusal.
          assertTrue(open.compareTo(IDLE_TIMEOUT.dividedBy(2)) >= 0,
              () -> "the first trickler was closed only " + open + " after its last byte");
        }
      }

      // The proxy still serves after all that.
      HttpResponse<String> after = client.send(
          HttpRequest.newBuilder(proxy.uri("/after-trickling")).timeout(WAIT).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, after.statusCode(), after::body);
    } finally {
      pacer.shutdownNow();
      for (Socket socket : tricklers) {
        socket.close();
      }
    }
  }

  /** Reads until the proxy closes the connection; how long after {@code lastByteAt} that was. */
  private static Duration awaitClosed(Socket socket, long lastByteAt) throws IOException {
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[1024];
    try {
      while (in.read(buffer) != -1) {
        // Whatever the container says before closing (an error status, or nothing) is fine.
      }
    } catch (SocketTimeoutException e) {
      fail("the trickling connection was still open " + Duration.ofNanos(System.nanoTime() - lastByteAt)
          + " after its last byte");
    } catch (IOException reset) {
      // A reset closes it too.
    }
    return Duration.ofNanos(System.nanoTime() - lastByteAt);
  }
}
