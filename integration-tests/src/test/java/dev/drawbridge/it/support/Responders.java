package dev.drawbridge.it.support;

import dev.drawbridge.protocol.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Scripted backend behaviours. Writes block the backend's own thread, which is fine in a test
 * backend and keeps each behaviour readable top to bottom. Failures and slowness are behaviours
 * too: {@link #stall()}, {@link #disconnect()}, {@link #truncatedDownload}.
 */
public final class Responders {

  /** Longest a gated responder waits for its test; keeps a forgotten latch from hanging a build. */
  private static final Duration GATE_TIMEOUT = Duration.ofSeconds(60);

  private static final int CHUNK_SIZE = 64 * 1024;

  private Responders() {}

  /** 200 with the {@link RecordedRequest} as JSON: what the backend saw, for the test to check. */
  public static Responder echo() {
    return (request, response, callback) ->
        send(response, callback, 200, "application/json", Json.toJson(request));
  }

  /** A fixed answer. */
  public static Responder fixed(int status, String contentType, String body) {
    return (request, response, callback) -> send(response, callback, status, contentType, body);
  }

  /**
   * 200 with the absolute URL of {@code path} as text, built the way web applications behind a
   * proxy build links, redirects and a package registry its download URLs: scheme from
   * X-Forwarded-Proto, authority from Host, then X-Forwarded-Prefix in front of the path.
   */
  public static Responder absoluteUrlOf(String path) {
    return (request, response, callback) -> {
      String scheme = request.header("X-Forwarded-Proto").orElse("http");
      String prefix = request.header("X-Forwarded-Prefix").orElse("");
      String url = scheme + "://" + request.header("Host").orElseThrow() + prefix + path;
      send(response, callback, 200, "text/plain", url);
    };
  }

  /** {@code length} pattern bytes (see {@link Bodies}) with a Content-Length, generated as sent. */
  public static Responder download(long length) {
    return (request, response, callback) -> {
      response.getHeaders().put("Content-Length", length);
      streamPattern(response, callback, length, length);
    };
  }

  /** Like {@link #download} but without Content-Length, so the body is chunked. */
  public static Responder chunkedDownload(long length) {
    return (request, response, callback) -> streamPattern(response, callback, length, length);
  }

  /** Declares {@code declaredLength} bytes, sends {@code sentLength}, then aborts the connection. */
  public static Responder truncatedDownload(long declaredLength, long sentLength) {
    return (request, response, callback) -> {
      response.getHeaders().put("Content-Length", declaredLength);
      streamPattern(response, callback, declaredLength, sentLength);
    };
  }

  /**
   * Server-Sent Events: sends {@code firstEvents}, then waits until the test counts down {@code
   * release}, then sends {@code laterEvents} and ends. Each event's data is one line.
   */
  public static Responder sse(List<String> firstEvents, CountDownLatch release, List<String> laterEvents) {
    return (request, response, callback) -> {
      response.setStatus(200);
      response.getHeaders().put("Content-Type", "text/event-stream");
      response.getHeaders().put("Cache-Control", "no-cache");
      try (OutputStream out = Content.Sink.asOutputStream(response)) {
        writeEvents(out, firstEvents);
        if (!release.await(GATE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new IOException("the test never released the SSE stream");
        }
        writeEvents(out, laterEvents);
      }
      callback.succeeded();
    };
  }

  /**
   * Server-Sent Events that never end on their own: sends {@code firstEvents}, then a comment line
   * every {@code heartbeat} until a write fails because the peer (the agent) closed the connection,
   * and then counts down {@code peerGone}. The heartbeat is how a server notices a closed
   * connection at all; it paces the stream and synchronises nothing.
   */
  public static Responder sseUntilPeerGone(
      List<String> firstEvents, Duration heartbeat, CountDownLatch peerGone) {
    return (request, response, callback) -> {
      response.setStatus(200);
      response.getHeaders().put("Content-Type", "text/event-stream");
      response.getHeaders().put("Cache-Control", "no-cache");
      OutputStream out = Content.Sink.asOutputStream(response);
      long deadline = System.nanoTime() + GATE_TIMEOUT.toNanos();
      try {
        writeEvents(out, firstEvents);
        while (System.nanoTime() - deadline < 0) {
          java.util.concurrent.locks.LockSupport.parkNanos(heartbeat.toNanos());
          out.write(": heartbeat\n\n".getBytes(StandardCharsets.UTF_8));
          out.flush();
        }
        callback.failed(new IOException("the peer never went away"));
      } catch (IOException e) {
        peerGone.countDown();
        callback.failed(e);
      }
    };
  }

  /**
   * Sends the head and {@code sentBytes} pattern bytes of a chunked body, counts down {@code sent},
   * then holds the response open (no more bytes, no end) until the test counts down {@code release}.
   */
  public static Responder partialThenHold(long sentBytes, CountDownLatch sent, CountDownLatch release) {
    return (request, response, callback) -> {
      response.setStatus(200);
      response.getHeaders().put("Content-Type", "application/octet-stream");
      OutputStream out = Content.Sink.asOutputStream(response);
      byte[] chunk = new byte[CHUNK_SIZE];
      try (InputStream pattern = Bodies.pattern(sentBytes)) {
        for (int n = pattern.read(chunk); n != -1; n = pattern.read(chunk)) {
          out.write(chunk, 0, n);
        }
      }
      out.flush();
      sent.countDown();
      try {
        release.await(GATE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } finally {
        callback.failed(new IOException("the test ended the held response"));
      }
    };
  }

  /**
   * Waits until the test counts down {@code release}, then streams pattern bytes without end until
   * a write fails because the peer (the agent) closed the connection, and then counts down {@code
   * peerGone}. Gives up after {@link #GATE_TIMEOUT} or {@code maxBytes}, whichever comes first.
   */
  public static Responder streamUntilPeerGone(CountDownLatch release, long maxBytes, CountDownLatch peerGone) {
    return (request, response, callback) -> {
      if (!release.await(GATE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        callback.failed(new IOException("the test never released the stream"));
        return;
      }
      response.setStatus(200);
      response.getHeaders().put("Content-Type", "application/octet-stream");
      OutputStream out = Content.Sink.asOutputStream(response);
      byte[] chunk = new byte[CHUNK_SIZE];
      try (InputStream pattern = Bodies.pattern(maxBytes)) {
        for (int n = pattern.read(chunk); n != -1; n = pattern.read(chunk)) {
          out.write(chunk, 0, n);
        }
        callback.failed(new IOException("the peer took all " + maxBytes + " bytes"));
      } catch (IOException e) {
        peerGone.countDown();
        callback.failed(e);
      }
    };
  }

  /** Never answers: the request stays open until the client, the proxy or the backend gives up. */
  public static Responder stall() {
    return (request, response, callback) -> {};
  }

  /** Closes the connection without any response, as a crashing backend would. */
  public static Responder disconnect() {
    return (request, response, callback) -> {
      response.getRequest().getConnectionMetaData().getConnection().getEndPoint().close();
      callback.failed(new IOException("connection closed by the test backend"));
    };
  }

  private static void send(
      Response response, Callback callback, int status, String contentType, String body) {
    response.setStatus(status);
    response.getHeaders().put("Content-Type", contentType);
    Content.Sink.write(response, true, body, callback);
  }

  private static void writeEvents(OutputStream out, List<String> events) throws IOException {
    for (String event : events) {
      out.write(("data: " + event + "\n\n").getBytes(StandardCharsets.UTF_8));
      // Each event must reach the client now, not when a buffer fills: that is what SSE tests check.
      out.flush();
    }
  }

  private static void streamPattern(
      Response response, Callback callback, long declaredLength, long sentLength)
      throws IOException {
    response.setStatus(200);
    response.getHeaders().put("Content-Type", "application/octet-stream");
    OutputStream out = Content.Sink.asOutputStream(response);
    byte[] chunk = new byte[CHUNK_SIZE];
    try (InputStream pattern = Bodies.pattern(sentLength)) {
      for (int n = pattern.read(chunk); n != -1; n = pattern.read(chunk)) {
        out.write(chunk, 0, n);
      }
    }
    if (sentLength < declaredLength) {
      // Failing a committed response makes Jetty abort the connection mid-body.
      out.flush();
      callback.failed(new IOException("download truncated by the test backend"));
      return;
    }
    out.close();
    callback.succeeded();
  }
}
