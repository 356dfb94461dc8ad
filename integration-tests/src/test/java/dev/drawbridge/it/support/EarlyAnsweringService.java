package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A service that answers every request 401 as soon as it has read the head, before any of the
 * body, as a service that checks credentials first does; then it drops whatever still arrives
 * until the caller closes the connection, as Node.js and most frameworks do. It counts those bytes
 * for each connection, so a test can check that the agent stopped sending once it saw the answer.
 */
public final class EarlyAnsweringService implements AutoCloseable {

  /** The body of every answer. */
  public static final String ANSWER = "sign in first\n";

  /** Pieces the uploading client writes. */
  private static final int PIECE = 64 * 1024;

  private final ServerSocket server;
  private final Duration readTimeout;
  private final BlockingQueue<Long> readAfterAnswer = new LinkedBlockingQueue<>();

  private EarlyAnsweringService(ServerSocket server, Duration readTimeout) {
    this.server = server;
    this.readTimeout = readTimeout;
  }

  /** Listens on a free port of 127.0.0.1; a connection quiet for {@code readTimeout} is dropped. */
  public static EarlyAnsweringService start(Duration readTimeout) {
    try {
      EarlyAnsweringService service =
          new EarlyAnsweringService(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), readTimeout);
      Thread accepting = new Thread(service::answerEachConnection, "early-answering-service");
      accepting.setDaemon(true);
      accepting.start();
      return service;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String url() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /**
   * Body bytes that reached the service after its answer on the next connection that ended, or
   * {@link Long#MAX_VALUE} when the caller kept it open without sending; fails if none ended
   * within {@code timeout}.
   */
  public long readAfterAnswer(Duration timeout) throws InterruptedException {
    Long read = readAfterAnswer.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (read == null) {
      throw new AssertionError("no connection to the service ended within " + timeout);
    }
    return read;
  }

  /**
   * Sends a body of zeros on another thread while this one reads the answer, as curl and browsers
   * do: it stops once the answer has come, or after {@code upTo} bytes, and then waits. Returns the
   * answer and how much was sent when it came.
   */
  public static Answered uploadUntilAnswered(RawHttp client, long upTo, boolean chunked, Duration timeout)
      throws Exception {
    AtomicBoolean answered = new AtomicBoolean();
    FutureTask<Long> sending = new FutureTask<>(() -> {
      byte[] piece = new byte[PIECE];
      long sent = 0;
      try {
        while (!answered.get() && sent + piece.length <= upTo) {
          if (chunked) {
            client.writeChunk(piece);
          } else {
            client.write(piece);
          }
          sent += piece.length;
        }
      } catch (IOException e) {
        // The connection ended after the answer.
      }
      return sent;
    });
    Thread sender = new Thread(sending, "uploading-client");
    sender.setDaemon(true);
    sender.start();
    RawHttp.Response response;
    try {
      response = client.readResponse("POST");
    } finally {
      answered.set(true);
    }
    return new Answered(response, sending.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
  }

  /** An answer, and the body bytes the client had sent when it came. */
  public record Answered(RawHttp.Response response, long sent) {}

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException ignored) {
      // Closing a test service; nothing to report.
    }
  }

  private void answerEachConnection() {
    while (!server.isClosed()) {
      try (Socket connection = server.accept()) {
        connection.setSoTimeout((int) readTimeout.toMillis());
        InputStream in = connection.getInputStream();
        skipHead(in);
        byte[] answer = ("HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: "
            + ANSWER.length() + "\r\nConnection: close\r\n\r\n" + ANSWER).getBytes(StandardCharsets.US_ASCII);
        connection.getOutputStream().write(answer);
        connection.getOutputStream().flush();
        connection.shutdownOutput();
        readAfterAnswer.add(discard(in));
      } catch (IOException e) {
        // The service is closing, or a connection broke: the test reading the counts reports it.
      }
    }
  }

  private static void skipHead(InputStream in) throws IOException {
    int matched = 0;
    while (matched < 4) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("the request head ended early");
      }
      matched = c == "\r\n\r\n".charAt(matched) ? matched + 1 : c == '\r' ? 1 : 0;
    }
  }

  private static long discard(InputStream in) {
    byte[] buffer = new byte[PIECE];
    long read = 0;
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        read += n;
      }
    } catch (SocketTimeoutException e) {
      return Long.MAX_VALUE;
    } catch (IOException e) {
      // The agent reset the connection after reading the answer.
    }
    return read;
  }
}
