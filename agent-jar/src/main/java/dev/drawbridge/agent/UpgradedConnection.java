package dev.drawbridge.agent;

import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.ResponseHead;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.core5.concurrent.FutureCallback;

/**
 * One switched connection between the backend and the proxy, relayed without a thread of its own.
 * Downstream, the backend's bytes go up in the exchange's response call (a 101 head frame, then
 * data frames); upstream, the client's bytes come down the exchange's request-body call and go to
 * the backend. Both calls run on the HTTP client's I/O threads; the backend channel and the
 * connection's state belong to the {@link UpgradeLoop}'s thread.
 *
 * <p>Bounded both ways: the backend is read only once the response call took the previous piece,
 * and the request-body call gets more capacity only once the backend took what came before, so a
 * slow side stalls the other and memory does not grow with it.
 *
 * <p>The connection ends when either direction ends: the backend closing makes an end frame and
 * the proxy then closes the client; the client's end frame (or a cut stream) makes the agent close
 * the backend connection and end the response call with an end frame too.
 */
final class UpgradedConnection implements UpgradeLoop.Handler, UpgradedUpstream.Connection {

  private static final Logger LOG = Logger.getLogger(UpgradedConnection.class.getName());

  private final String exchangeId;
  private final BackendChannel backend;
  private final ProxyClient proxyClient;
  private final UpgradeLoop loop;
  private final Keepalives keepalives;
  private final long startedNanos;
  private final Runnable onClosed;
  private final UpgradedDownstream downstream;
  private final UpgradedUpstream upstream = new UpgradedUpstream(this);
  private final AtomicLong bytesToClient = new AtomicLong();
  private final AtomicLong bytesToBackend = new AtomicLong();

  // Touched on the loop's thread only.
  private SelectionKey key;
  private final ArrayDeque<ByteBuffer> toBackend = new ArrayDeque<>();
  private boolean clientEnded;
  private int callsRunning = 2;

  private volatile boolean closing;
  private volatile String endReason = "closed";
  private volatile Future<?> upCall;
  /** The response call's place in the keepalive ticks while the connection is open; loop's thread. */
  private Keepalives.Registration idle;

  /**
   * @param leftover what the backend sent right after its 101 head, the connection's first bytes
   */
  UpgradedConnection(String exchangeId, ResponseHead switchHead, BackendChannel backend, byte[] leftover,
      ProxyClient proxyClient, UpgradeLoop loop, Keepalives keepalives, long startedNanos, Runnable onClosed) {
    this.exchangeId = exchangeId;
    this.backend = backend;
    this.proxyClient = proxyClient;
    this.loop = loop;
    this.keepalives = keepalives;
    this.startedNanos = startedNanos;
    this.onClosed = onClosed;
    this.downstream = new UpgradedDownstream(switchHead, leftover, () -> loop.execute(this::resumeReading));
    bytesToClient.addAndGet(leftover.length);
  }

  /** Starts both calls and hands the backend channel to the loop. */
  void start() {
    try {
      backend.switchToNonBlocking();
    } catch (IOException e) {
      loop.execute(() -> close("the backend connection failed: " + Reasons.describe(e)));
    }
    DownCallDone downDone = new DownCallDone();
    try {
      proxyClient.sendUpgradedStream(exchangeId, downstream, downDone);
    } catch (RuntimeException e) {
      downDone.failed(e);
    }
    UpCallDone upDone = new UpCallDone();
    try {
      upCall = proxyClient.openUpgradedStream(exchangeId, upstream, upDone);
    } catch (RuntimeException e) {
      upDone.failed(e);
      return;
    }
    if (closing) {
      upCall.cancel(true);
    }
    loop.execute(() -> {
      if (closing) {
        return;
      }
      try {
        key = loop.register(backend.channel(), 0, this);
      } catch (IOException e) {
        close("the backend connection failed: " + Reasons.describe(e));
        return;
      }
      // While the backend has nothing to say, keepalives hold the response call open.
      idle = keepalives.register(downstream::offerKeepalive);
      updateInterest();
    });
  }

  @Override
  public void ready(SelectionKey readyKey) {
    if (readyKey.isWritable()) {
      writeToBackend();
    }
    if (!closing && readyKey.isValid() && readyKey.isReadable()) {
      readFromBackend();
    }
    updateInterest();
  }

  private void readFromBackend() {
    if (closing || !downstream.isIdle()) {
      return;
    }
    ByteBuffer buffer = loop.readBuffer();
    int n;
    try {
      n = backend.read(buffer);
    } catch (IOException e) {
      String reason = "backend connection broke: " + Reasons.describe(e);
      close("the " + reason, Frames.abort(reason));
      return;
    }
    if (n < 0) {
      close("the backend closed");
    } else if (n > 0) {
      buffer.flip();
      if (idle != null) {
        idle.carried();
      }
      downstream.offer(UpgradedDownstream.dataFrame(buffer));
      bytesToClient.addAndGet(n);
    }
  }

  /** The response call took every piece: read the backend again (TLS may hold decrypted bytes). */
  private void resumeReading() {
    if (closing) {
      return;
    }
    readFromBackend();
    updateInterest();
  }

  @Override
  public void clientBytes(int consumed, List<ByteBuffer> data, boolean end, String abort) {
    loop.execute(() -> takeClientBytes(consumed, data, end, abort));
  }

  @Override
  public void capacityOffered() {
    loop.execute(() -> {
      if (toBackend.isEmpty() && !backend.hasPendingOutput()) {
        grantClientBytes();
      }
    });
  }

  @Override
  public void ended(String reason) {
    closeLater(reason);
  }

  private void takeClientBytes(int consumed, List<ByteBuffer> data, boolean end, String abort) {
    if (closing) {
      return;
    }
    upstream.consumed(consumed);
    toBackend.addAll(data);
    clientEnded |= end;
    if (abort != null) {
      close("the client's side ended: " + abort);
      return;
    }
    writeToBackend();
    updateInterest();
  }

  private void writeToBackend() {
    if (closing) {
      return;
    }
    try {
      while (!toBackend.isEmpty()) {
        ByteBuffer next = toBackend.peek();
        bytesToBackend.addAndGet(backend.write(next));
        if (next.hasRemaining()) {
          return;
        }
        toBackend.poll();
      }
      if (!backend.flush()) {
        return;
      }
    } catch (IOException e) {
      close("the backend connection broke: " + Reasons.describe(e));
      return;
    }
    if (clientEnded) {
      close("the client closed");
      return;
    }
    grantClientBytes();
  }

  /** The backend took everything: the request-body call may deliver as much again. */
  private void grantClientBytes() {
    try {
      upstream.grant();
    } catch (IOException e) {
      close("the client's side ended: " + Reasons.describe(e));
    }
  }

  private void updateInterest() {
    if (closing || key == null || !key.isValid()) {
      return;
    }
    int interest = 0;
    if (!toBackend.isEmpty() || backend.hasPendingOutput()) {
      interest |= SelectionKey.OP_WRITE;
    }
    if (downstream.isIdle()) {
      interest |= SelectionKey.OP_READ;
    }
    key.interestOps(interest);
  }

  /** Ends the connection cleanly; on the loop's thread. */
  void close(String reason) {
    close(reason, Frames.end());
  }

  /**
   * Ends the connection: the backend channel closes, the response call ends with {@code lastFrame}
   * (so the proxy closes the client), the request-body call is cancelled. On the loop's thread.
   */
  private void close(String reason, byte[] lastFrame) {
    if (closing) {
      return;
    }
    closing = true;
    endReason = reason;
    if (idle != null) {
      idle.close();
    }
    if (key != null) {
      key.cancel();
    }
    backend.close();
    toBackend.clear();
    downstream.finish(ByteBuffer.wrap(lastFrame));
    Future<?> call = upCall;
    if (call != null) {
      call.cancel(true);
    }
  }

  /** Asks the loop to end the connection, from any thread. */
  void closeLater(String reason) {
    loop.execute(() -> close(reason));
  }

  /** One of the two calls is over; after both, the connection is counted out. On the loop's thread. */
  private void callEnded() {
    if (--callsRunning > 0) {
      return;
    }
    onClosed.run();
    LOG.info(log("upgraded connection ended (" + endReason + ") after " + (System.nanoTime() - startedNanos) / 1_000_000
        + " ms, " + bytesToBackend.get() + " bytes to the backend, " + bytesToClient.get() + " bytes to the client"));
  }

  private String log(String message) {
    return "exchange " + exchangeId + ": " + message;
  }

  /** The response call ended: the proxy answered, or the call broke. */
  private final class DownCallDone implements FutureCallback<SimpleHttpResponse> {

    @Override
    public void completed(SimpleHttpResponse answer) {
      int status = answer.getCode();
      if (status != 204 && status != 410) {
        LOG.warning(log("the proxy refused the upgraded connection (" + status + ": "
            + ProxyClient.firstLine(answer.getBodyText()) + ")"));
      }
      loop.execute(() -> {
        close(status == 204 ? "closed" : "the proxy ended it");
        callEnded();
      });
    }

    @Override
    public void failed(Exception failure) {
      boolean headSent = downstream.headSent();
      loop.execute(() -> {
        close("the connection to the proxy broke: " + Reasons.describe(failure));
        callEnded();
      });
      if (!headSent) {
        // The proxy never heard of the switch: tell its client now, not at the handshake timeout.
        proxyClient.reportUpgradeFailure(exchangeId);
      }
    }

    @Override
    public void cancelled() {
      loop.execute(() -> {
        close("the proxy ended it");
        callEnded();
      });
    }
  }

  /** The request-body call ended. */
  private final class UpCallDone implements FutureCallback<Void> {

    @Override
    public void completed(Void nothing) {
      loop.execute(UpgradedConnection.this::callEnded);
    }

    @Override
    public void failed(Exception failure) {
      loop.execute(() -> {
        close("the client's side ended: " + Reasons.describe(failure));
        callEnded();
      });
    }

    @Override
    public void cancelled() {
      loop.execute(UpgradedConnection.this::callEnded);
    }
  }
}
