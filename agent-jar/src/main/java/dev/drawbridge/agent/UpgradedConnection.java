package dev.drawbridge.agent;

import dev.drawbridge.protocol.Failure;
import dev.drawbridge.protocol.FramedInputStream;
import dev.drawbridge.protocol.FramedOutputStream;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.ResponseHead;
import dev.drawbridge.protocol.WireJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.AbstractHttpEntity;

/**
 * One switched connection between the backend and the proxy, relayed by two threads, one per
 * direction, each blocking on its source: downstream the backend's bytes go up in the exchange's
 * response call (a 101 head frame, then data frames), upstream the client's bytes come down the
 * request-body call and go to the backend. A small, fixed stack per thread keeps one open
 * connection at about two threads' stacks plus two {@value #BUFFER}-byte buffers.
 *
 * <p>The connection ends when either direction ends: the backend closing makes an end frame and
 * the proxy then closes the client; the client's end frame (or a cut stream) makes the agent
 * close the backend connection, which ends the downstream direction with an end frame too.
 */
final class UpgradedConnection {

  private static final Logger LOG = Logger.getLogger(UpgradedConnection.class.getName());

  /** Stack of each relay thread: they only copy between two streams. */
  static final long STACK_BYTES = 256 * 1024;

  /** Bytes per read, each way: small, since a thousand connections each hold two. */
  private static final int BUFFER = 8 * 1024;

  private static final ContentType FRAMES = ContentType.create(Protocol.FRAMES_TYPE);

  private final String exchangeId;
  private final ResponseHead switchHead;
  private final BackendHandshake backend;
  private final ProxyClient proxyClient;
  private final long startedNanos;
  private final Runnable onClosed;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong bytesToClient = new AtomicLong();
  private final AtomicLong bytesToBackend = new AtomicLong();
  private final AtomicInteger running = new AtomicInteger(2);
  private volatile HttpPost downCall;
  private volatile HttpGet upCall;
  private volatile String endReason = "closed";
  private volatile boolean headSent;

  UpgradedConnection(
      String exchangeId, ResponseHead switchHead, BackendHandshake backend, ProxyClient proxyClient, long startedNanos,
      Runnable onClosed) {
    this.exchangeId = exchangeId;
    this.switchHead = switchHead;
    this.backend = backend;
    this.proxyClient = proxyClient;
    this.startedNanos = startedNanos;
    this.onClosed = onClosed;
  }

  void start(ExecutorService pumps) {
    try {
      // After the switch silence is normal: the proxy's idle timeout decides when it is too long.
      backend.socket().setSoTimeout(0);
    } catch (IOException e) {
      close("the backend connection failed: " + Reasons.describe(e));
    }
    pumps.execute(this::down);
    pumps.execute(this::up);
  }

  /** Backend to client: the 101 head, then every byte the backend sends, then the end frame. */
  private void down() {
    HttpPost call = proxyClient.upgradedResponseRequest(exchangeId, new Downstream());
    downCall = call;
    try {
      if (closing.get()) {
        call.cancel();
      }
      ProxyClient.Answer answer = proxyClient.sendUpgraded(call);
      if (answer.status() != 204 && answer.status() != 410) {
        LOG.warning(log("the proxy refused the upgraded connection (" + answer.status() + ": " + answer.message() + ")"));
      }
      close(answer.status() == 204 ? "closed" : "the proxy ended it");
    } catch (IOException | RuntimeException e) {
      close(closing.get() ? endReason : "the connection to the proxy broke: " + Reasons.describe(e));
      if (!headSent) {
        // The proxy never heard of the switch: tell its client now, not at the handshake timeout.
        reportFailure();
      }
    } finally {
      finished();
    }
  }

  private void reportFailure() {
    try {
      proxyClient.send(proxyClient.responseRequest(exchangeId, new ResponseUpload(
          ResponseHead.failed(Failure.BACKEND_UNREACHABLE, "The agent could not relay the switched connection."), null)));
    } catch (IOException | RuntimeException e) {
      LOG.fine(log("could not report the failed switch: " + Reasons.describe(e)));
    }
  }

  /** Client to backend: the request-body call's data frames, until its end frame or a cut. */
  private void up() {
    HttpGet call = proxyClient.requestBodyRequest(exchangeId);
    upCall = call;
    try {
      if (closing.get()) {
        call.cancel();
      }
      try (ClassicHttpResponse clientSide = proxyClient.openUpgraded(call)) {
        if (clientSide.getCode() != 200 || clientSide.getEntity() == null) {
          close("the proxy refused the client's side (" + clientSide.getCode() + ")");
          return;
        }
        InputStream clientBytes = new FramedInputStream(clientSide.getEntity().getContent(), BUFFER + 5);
        OutputStream backendOut = backend.socket().getOutputStream();
        byte[] buffer = new byte[BUFFER];
        int n;
        while ((n = clientBytes.read(buffer)) >= 0) {
          backendOut.write(buffer, 0, n);
          backendOut.flush();
          bytesToBackend.addAndGet(n);
        }
        close("the client closed");
      }
    } catch (IOException | RuntimeException e) {
      close(closing.get() ? endReason : "the client's side ended: " + Reasons.describe(e));
    } finally {
      finished();
    }
  }

  /**
   * Ends the connection: the backend socket closes (so the downstream thread reads its end), the
   * request-body call is cancelled. The response call ends by itself with its end frame.
   */
  void close(String reason) {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    endReason = reason;
    backend.close();
    HttpGet call = upCall;
    if (call != null) {
      call.cancel();
    }
  }

  /** Both threads are done: count the connection out and write its access line. */
  private void finished() {
    if (running.decrementAndGet() > 0) {
      return;
    }
    HttpPost call = downCall;
    if (call != null && !closed.get()) {
      call.cancel();
    }
    if (closed.compareAndSet(false, true)) {
      onClosed.run();
      LOG.info(log("upgraded connection ended (" + endReason + ") after " + (System.nanoTime() - startedNanos) / 1_000_000
          + " ms, " + bytesToBackend.get() + " bytes to the backend, " + bytesToClient.get() + " bytes to the client"));
    }
  }

  private String log(String message) {
    return "exchange " + exchangeId + ": " + message;
  }

  /** The response call's body: written once, as the backend sends. */
  private final class Downstream extends AbstractHttpEntity {

    Downstream() {
      super(FRAMES, null, true);
    }

    @Override
    public void writeTo(OutputStream proxyUpload) throws IOException {
      FramedOutputStream frames = new FramedOutputStream(proxyUpload);
      frames.writeHead(WireJson.write(switchHead));
      frames.flush();
      headSent = true;
      InputStream backendBytes = backend.bytesAfterHead();
      byte[] buffer = new byte[BUFFER];
      while (true) {
        int n;
        try {
          n = backendBytes.read(buffer);
        } catch (IOException e) {
          if (closing.get()) {
            // We closed the backend because the client's side ended: a clean end.
            break;
          }
          UpgradedConnection.this.close("the backend connection broke: " + Reasons.describe(e));
          frames.abort("backend connection broke: " + Reasons.describe(e));
          frames.flush();
          return;
        }
        if (n < 0) {
          UpgradedConnection.this.close("the backend closed");
          break;
        }
        frames.write(buffer, 0, n);
        frames.flush();
        bytesToClient.addAndGet(n);
      }
      frames.finish();
      frames.flush();
    }

    @Override
    public InputStream getContent() {
      throw new UnsupportedOperationException("an upgraded stream is written, not read");
    }

    @Override
    public long getContentLength() {
      return -1;
    }

    @Override
    public boolean isRepeatable() {
      return false;
    }

    @Override
    public boolean isStreaming() {
      return true;
    }

    @Override
    public void close() {
      // The backend socket is the connection's, closed by it.
    }
  }
}
