package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A call to the proxy that meets a keep-alive connection the server closed is sent again on a new
 * connection, once; a streamed upload never is, and the backend leg never retries at all. The
 * server is a raw socket that answers the first request of each connection and then closes the
 * connection on the next request without a byte of answer, as a server that dropped an idle
 * connection looks from the client.
 */
@Timeout(20)
class StaleConnectionRetryTest {

  private ServerSocket server;
  private final BlockingQueue<String> requestLines = new LinkedBlockingQueue<>();
  private Thread acceptor;

  @BeforeEach
  void startServer() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor = new Thread(this::serve, "closes-after-one-answer");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  @AfterEach
  void stopServer() throws Exception {
    server.close();
    acceptor.join(5_000);
  }

  private void serve() {
    while (!server.isClosed()) {
      try (Socket socket = server.accept()) {
        BufferedReader in =
            new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
        String first = readHead(in);
        if (first == null) {
          continue;
        }
        requestLines.add(first);
        OutputStream out = socket.getOutputStream();
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String second = readHead(in);
        if (second != null) {
          requestLines.add(second + " (closed unanswered)");
        }
      } catch (IOException e) {
        // The test closed the server.
      }
    }
  }

  /** Reads one request head and skips a body of up to a few bytes; returns its request line. */
  private static String readHead(BufferedReader in) throws IOException {
    String requestLine = in.readLine();
    if (requestLine == null) {
      return null;
    }
    int length = 0;
    for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
      if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    in.skip(length);
    return requestLine;
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
          new java.io.ByteArrayInputStream(new byte[] {1}), 1, ContentType.APPLICATION_OCTET_STREAM));
      assertThrows(NoHttpResponseException.class, () -> run(proxy, upload));
    }
    assertEquals("POST /poll HTTP/1.1", requestLines.take());
    assertEquals("POST /response HTTP/1.1 (closed unanswered)", requestLines.take());
    assertEquals(null, requestLines.poll());
  }

  @Test
  void theBackendLegNeverRetries() throws Exception {
    try (CloseableHttpClient backend = ClientFactory.backendClient(config())) {
      assertEquals(200, run(backend, new HttpGet(url("/a"))));
      assertThrows(NoHttpResponseException.class, () -> run(backend, new HttpGet(url("/b"))));
    }
    assertEquals("GET /a HTTP/1.1", requestLines.take());
    assertEquals("GET /b HTTP/1.1 (closed unanswered)", requestLines.take());
    assertEquals(null, requestLines.poll());
  }
}
