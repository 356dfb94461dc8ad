package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.RequestHead;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A service that answers an upload before reading it (a 401 or 413) reaches the client with its
 * own status: the backend leg stops sending once the answer is there, instead of pushing the whole
 * body into a connection the service stopped reading.
 */
@Timeout(120)
class EarlyResponseTest {

  /** Far more than the socket buffers hold, so an upload sent whole is told apart at once. */
  private static final long BODY = 1L << 30;

  private ServerSocket server;
  /** Body bytes the service read before the agent stopped sending. */
  private final CompletableFuture<Long> bodyBytesRead = new CompletableFuture<>();
  /** True for a service that closes at once after answering, so the rest of the upload meets a reset. */
  private volatile boolean resetAtOnce;

  @BeforeEach
  void startService() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread service = new Thread(this::answerEarly, "early-answering-service");
    service.setDaemon(true);
    service.start();
  }

  @AfterEach
  void stopService() throws IOException {
    server.close();
  }

  /** Reads the head, answers 401 and closes its side, then counts what still arrives, as Node does. */
  private void answerEarly() {
    try (Socket socket = server.accept()) {
      InputStream in = socket.getInputStream();
      int matched = 0;
      while (matched < 4) {
        int c = in.read();
        if (c < 0) {
          throw new IOException("the head ended early");
        }
        matched = c == "\r\n\r\n".charAt(matched) ? matched + 1 : c == '\r' ? 1 : 0;
      }
      socket.getOutputStream().write(
          "HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno".getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      if (resetAtOnce) {
        // Closing with the upload unread sends a reset: the agent's next write fails.
        bodyBytesRead.complete(0L);
        return;
      }
      socket.shutdownOutput();
      socket.setSoTimeout(60_000);
      byte[] discard = new byte[64 * 1024];
      long read = 0;
      try {
        for (int n; (n = in.read(discard)) >= 0; ) {
          read += n;
        }
      } catch (SocketTimeoutException e) {
        // The agent kept the connection open without sending.
      } catch (IOException e) {
        // The agent dropped the connection after reading the answer, as HttpClient does at once.
      }
      bodyBytesRead.complete(read);
    } catch (IOException e) {
      bodyBytesRead.completeExceptionally(e);
    }
  }

  @Test
  void anUploadAnsweredBeforeItIsReadGetsTheServicesStatusAndStopsEarly() throws Exception {
    assertEquals(401, upload());
    long read = bodyBytesRead.get(90, TimeUnit.SECONDS);
    assertTrue(read < BODY / 2, () -> "the agent went on sending after the answer: " + read + " bytes");
  }

  /** As Node.js does: the answer is read although the upload then fails with a broken pipe or reset. */
  @Test
  void anUploadAnsweredJustBeforeTheServiceResetsGetsTheServicesStatus() throws Exception {
    resetAtOnce = true;
    assertEquals(401, upload());
  }

  /** Sends an upload of {@link #BODY} bytes the way the agent does; the status the agent got. */
  private int upload() throws Exception {
    AgentConfig config = AgentConfig.defaults(URI.create("http://127.0.0.1:1"),
        URI.create("http://127.0.0.1:" + server.getLocalPort()), "token");
    HttpHost service = new HttpHost("http", "127.0.0.1", server.getLocalPort());
    RequestHead clientRequest = new RequestHead("ex1", "default", "PUT", "/upload", List.of(), BodyMode.STREAM, BODY, null);
    try (CloseableHttpClient backendClient = ClientFactory.backendClient(config)) {
      BackendRequest request = BackendRequest.of(clientRequest, service, config.targetBasePath(), false);
      request.setEntity(new InputStreamEntity(new Zeros(BODY), BODY, null));
      try (ClassicHttpResponse response = backendClient.executeOpen(service, request, null)) {
        assertEquals("no", EntityUtils.toString(response.getEntity()));
        return response.getCode();
      }
    }
  }

  /** A body of zeros that is generated as it is read, never held. */
  private static final class Zeros extends InputStream {
    private long left;

    Zeros(long length) {
      left = length;
    }

    @Override
    public int read() {
      return left-- > 0 ? 0 : -1;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) {
      if (left <= 0) {
        return -1;
      }
      int n = (int) Math.min(length, left);
      java.util.Arrays.fill(buffer, offset, offset + n, (byte) 0);
      left -= n;
      return n;
    }
  }
}
