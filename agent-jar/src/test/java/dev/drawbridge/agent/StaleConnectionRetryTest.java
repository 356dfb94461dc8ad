package dev.drawbridge.agent;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.BatchedResponse;
import dev.drawbridge.protocol.Failure;
import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.ResponseHead;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.classic.methods.HttpDelete;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.classic.methods.HttpPut;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A call to the proxy that meets a keep-alive connection the server closed is sent again on a new
 * connection, once; a streamed upload never is, and a streamed batch is found out before any
 * response went into it. On the backend leg only an idempotent request
 * without a streamed body is, and never on a status. The server is a raw socket that answers the
 * first request of each connection and then closes the connection on the next request without a
 * byte of answer, as a server that dropped an idle connection looks from the client.
 */
@Timeout(20)
class StaleConnectionRetryTest {

  private static final String CHUNKED = " [chunked]";

  private ServerSocket server;
  private final BlockingQueue<String> requestLines = new LinkedBlockingQueue<>();
  private final List<Socket> connections = new CopyOnWriteArrayList<>();
  /** What the first request of each connection gets. */
  private volatile String firstAnswer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  private Thread acceptor;

  @BeforeEach
  void startServer() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor = new Thread(this::accept, "closes-after-one-answer");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  @AfterEach
  void stopServer() throws Exception {
    server.close();
    acceptor.join(5_000);
    for (Socket connection : connections) {
      connection.close();
    }
  }

  /** One thread per connection, so that the client may hold several at once. */
  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        connections.add(socket);
        Thread connection = new Thread(() -> serve(socket), "connection-" + connections.size());
        connection.setDaemon(true);
        connection.start();
      } catch (IOException e) {
        // The test closed the server.
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      BufferedReader in =
          new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
      String first = readHead(in);
      if (first == null) {
        return;
      }
      OutputStream out = socket.getOutputStream();
      if (first.endsWith(CHUNKED)) {
        // Read the chunked body to its last chunk, and note how much it held.
        first = first.substring(0, first.length() - CHUNKED.length());
        int bodyBytes = 0;
        for (String size = in.readLine(); size != null; size = in.readLine()) {
          int chunk = Integer.parseInt(size.trim(), 16);
          if (chunk == 0) {
            in.readLine();
            break;
          }
          in.skip(chunk);
          in.readLine();
          bodyBytes += chunk;
        }
        first += " (" + bodyBytes + " chunked body bytes)";
      }
      requestLines.add(first);
      out.write(firstAnswer.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String second = readHead(in);
      if (second != null) {
        requestLines.add(second.replace(CHUNKED, "") + " (closed unanswered)");
      }
    } catch (IOException e) {
      // The client or the test closed the connection.
    }
  }

  /**
   * Reads one request head and skips a body of up to a few bytes; returns its request line, with
   * {@link #CHUNKED} added for a chunked body (which it leaves to the caller), or the length of a
   * body with a {@code Content-Length} (of a POST).
   */
  private static String readHead(BufferedReader in) throws IOException {
    String requestLine = in.readLine();
    if (requestLine == null) {
      return null;
    }
    int length = 0;
    boolean chunked = false;
    for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
      if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
        length = Integer.parseInt(line.substring(15).trim());
      }
      chunked |= line.equalsIgnoreCase("Transfer-Encoding: chunked");
    }
    if (chunked) {
      return requestLine + CHUNKED;
    }
    in.skip(length);
    return requestLine.startsWith("POST /drawbridge/") && length > 0 ? requestLine + " (" + length + " body bytes)" : requestLine;
  }

  private String url(String path) {
    return "http://127.0.0.1:" + server.getLocalPort() + path;
  }

  private AgentConfig config() {
    return AgentConfig.defaults(URI.create(url("/drawbridge")), URI.create("http://127.0.0.1:1"), "t");
  }

  private static int run(CloseableHttpClient client, ClassicHttpRequest request) throws IOException {
    return client.execute(request, response -> response.getCode());
  }

  @Test
  void aPollOnAConnectionTheServerClosedIsSentAgainOnANewOne() throws Exception {
    try (CloseableHttpClient proxy = ClientFactory.proxyClient(config())) {
      assertEquals(200, run(proxy, new HttpPost(url("/poll"))));
      assertEquals(200, run(proxy, new HttpPost(url("/poll"))));
    }
    assertEquals("POST /poll HTTP/1.1", requestLines.take());
    assertEquals("POST /poll HTTP/1.1 (closed unanswered)", requestLines.take());
    assertEquals("POST /poll HTTP/1.1", requestLines.take());
  }

  @Test
  void aBodyFetchAndABatchAreSentAgainToo() throws Exception {
    try (CloseableHttpClient proxy = ClientFactory.proxyClient(config())) {
      assertEquals(200, run(proxy, new HttpGet(url("/first"))));
      assertEquals(200, run(proxy, new HttpGet(url("/body"))));
      HttpPost batch = new HttpPost(url("/responses"));
      batch.setEntity(new ByteArrayEntity(new byte[] {1, 2, 3}, ContentType.APPLICATION_OCTET_STREAM));
      assertEquals(200, run(proxy, batch));
    }
    assertEquals("GET /first HTTP/1.1", requestLines.take());
    assertEquals("GET /body HTTP/1.1 (closed unanswered)", requestLines.take());
    assertEquals("GET /body HTTP/1.1", requestLines.take());
    assertEquals("POST /responses HTTP/1.1 (closed unanswered)", requestLines.take());
    assertEquals("POST /responses HTTP/1.1", requestLines.take());
  }

  @Test
  void aStreamedUploadIsNeverSentTwice() throws Exception {
    try (CloseableHttpClient proxy = ClientFactory.proxyClient(config())) {
      assertEquals(200, run(proxy, new HttpPost(url("/poll"))));
      HttpPost upload = new HttpPost(url("/response"));
      upload.setEntity(new InputStreamEntity(
          new ByteArrayInputStream(new byte[] {1}), 1, ContentType.APPLICATION_OCTET_STREAM));
      assertThrows(NoHttpResponseException.class, () -> run(proxy, upload));
    }
    assertEquals("POST /poll HTTP/1.1", requestLines.take());
    assertEquals("POST /response HTTP/1.1 (closed unanswered)", requestLines.take());
    assertEquals(null, requestLines.poll());
  }

  @Test
  void theResponsesOfAStreamedBatchOnAClosedConnectionAreSentAgainInABatch() throws Exception {
    AgentConfig config = config();
    firstAnswer = "HTTP/1.1 204 No Content\r\nDrawbridge-Response-Stream: passed\r\n\r\n";
    ExecutorService carriers = Executors.newCachedThreadPool();
    try (ProxyClient client = new ProxyClient(config, new ProxyNode(URI.create(url("/drawbridge")), null),
        TokenSource.fixed("t"), "instance", () -> "")) {
      ResponseStream streams = new ResponseStream(
          client::sendStream, client::sendBatch, carriers, "node", Duration.ofMillis(100), Duration.ofHours(1));
      ResponseBatcher batcher = new ResponseBatcher(client::sendBatch, Duration.ofSeconds(15));
      batcher.streamWith(streams);
      byte[] frame = BatchedResponse.frame("one", "{\"status\":200,\"headers\":[]}".getBytes(StandardCharsets.UTF_8), new byte[0], 0);
      assertNull(streams.submit(frame), "the way is checked first");
      await("the check").atMost(Duration.ofSeconds(15)).until(streams::streaming);
      // The check's connection is now pooled, and the server closes it on the next request. The
      // response is written into it, or its write fails: either way it goes again in a batch.
      assertTrue(batcher.submit("one", frame).get(15, TimeUnit.SECONDS).delivered());
      String batch = "POST /drawbridge/_drawbridge/agent/v1/responses?backend=default HTTP/1.1";
      assertEquals(batch + " (" + Frames.end().length + " chunked body bytes)", requestLines.take());
      assertEquals(batch + " (closed unanswered)", requestLines.take());
      assertEquals(batch + " (" + (frame.length + Frames.end().length) + " body bytes)", requestLines.take(),
          "the response went again, in a plain batch");
    } finally {
      carriers.shutdownNow();
    }
  }

  @Test
  void anIdempotentRequestToTheBackendIsSentAgainOnANewConnection() throws Exception {
    try (CloseableHttpClient backend = ClientFactory.backendClient(config())) {
      assertEquals(200, run(backend, new HttpGet(url("/a"))));
      assertEquals(200, run(backend, new HttpGet(url("/b"))));
      HttpPut put = new HttpPut(url("/c"));
      put.setEntity(new ByteArrayEntity(new byte[] {1, 2, 3}, null));
      assertEquals(200, run(backend, put));
      assertEquals(200, run(backend, new HttpDelete(url("/d"))));
    }
    assertEquals("GET /a HTTP/1.1", requestLines.take());
    assertEquals("GET /b HTTP/1.1 (closed unanswered)", requestLines.take());
    assertEquals("GET /b HTTP/1.1", requestLines.take());
    assertEquals("PUT /c HTTP/1.1 (closed unanswered)", requestLines.take());
    assertEquals("PUT /c HTTP/1.1", requestLines.take());
    assertEquals("DELETE /d HTTP/1.1 (closed unanswered)", requestLines.take());
    assertEquals("DELETE /d HTTP/1.1", requestLines.take());
    assertEquals(null, requestLines.poll());
    assertEquals(4, connections.size());
  }

  @Test
  void aRetryToTheBackendTakesNoOtherIdleConnectionFromThePool() throws Exception {
    try (CloseableHttpClient backend = ClientFactory.backendClient(config())) {
      // Two responses open at once leave two connections idle in the pool.
      ClassicHttpResponse first = backend.executeOpen(null, new HttpGet(url("/a")), null);
      ClassicHttpResponse second = backend.executeOpen(null, new HttpGet(url("/b")), null);
      for (ClassicHttpResponse response : List.of(first, second)) {
        EntityUtils.consume(response.getEntity());
        response.close();
      }
      assertEquals(200, run(backend, new HttpGet(url("/c"))));
    }
    assertEquals(Set.of("GET /a HTTP/1.1", "GET /b HTTP/1.1"), Set.of(requestLines.take(), requestLines.take()));
    assertEquals("GET /c HTTP/1.1 (closed unanswered)", requestLines.take());
    assertEquals("GET /c HTTP/1.1", requestLines.take());
    assertEquals(null, requestLines.poll());
    assertEquals(3, connections.size());
  }

  @Test
  void aPostToTheBackendIsNeverSentTwice() throws Exception {
    IOException failure;
    try (CloseableHttpClient backend = ClientFactory.backendClient(config())) {
      assertEquals(200, run(backend, new HttpGet(url("/a"))));
      HttpPost post = new HttpPost(url("/b"));
      post.setEntity(new ByteArrayEntity(new byte[] {1}, null));
      failure = assertThrows(NoHttpResponseException.class, () -> run(backend, post));
    }
    ResponseHead reported = BackendFailures.head(failure, config());
    assertEquals(Failure.BACKEND_UNREACHABLE, reported.failure());
    assertEquals(502, reported.failure().status());
    assertEquals("GET /a HTTP/1.1", requestLines.take());
    assertEquals("POST /b HTTP/1.1 (closed unanswered)", requestLines.take());
    assertEquals(null, requestLines.poll());
  }

  @Test
  void aPutWithAStreamedBodyIsNeverSentTwiceToTheBackend() throws Exception {
    try (CloseableHttpClient backend = ClientFactory.backendClient(config())) {
      assertEquals(200, run(backend, new HttpGet(url("/a"))));
      HttpPut put = new HttpPut(url("/b"));
      put.setEntity(new InputStreamEntity(new ByteArrayInputStream(new byte[] {1}), 1, null));
      assertThrows(NoHttpResponseException.class, () -> run(backend, put));
    }
    assertEquals("GET /a HTTP/1.1", requestLines.take());
    assertEquals("PUT /b HTTP/1.1 (closed unanswered)", requestLines.take());
    assertEquals(null, requestLines.poll());
  }

  @Test
  void aBackendStatusIsNeverRetried() throws Exception {
    firstAnswer = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 4\r\n\r\nbusy";
    try (CloseableHttpClient backend = ClientFactory.backendClient(config())) {
      assertEquals(503, run(backend, new HttpGet(url("/a"))));
    }
    assertEquals("GET /a HTTP/1.1", requestLines.take());
    assertEquals(null, requestLines.poll());
    assertEquals(1, connections.size());
  }
}
