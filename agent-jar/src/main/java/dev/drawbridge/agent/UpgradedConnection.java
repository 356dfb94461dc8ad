package dev.drawbridge.agent;

import dev.drawbridge.protocol.FrameException;
import dev.drawbridge.protocol.FrameReader;
import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.ResponseHead;
import dev.drawbridge.protocol.WireJson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.nio.AsyncEntityProducer;
import org.apache.hc.core5.http.nio.AsyncResponseConsumer;
import org.apache.hc.core5.http.nio.CapacityChannel;
import org.apache.hc.core5.http.nio.DataStreamChannel;
import org.apache.hc.core5.http.protocol.HttpContext;

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
final class UpgradedConnection implements UpgradeLoop.Handler {

  private static final Logger LOG = Logger.getLogger(UpgradedConnection.class.getName());

  private final String exchangeId;
  private final ResponseHead switchHead;
  private final BackendChannel backend;
  private final byte[] leftover;
  private final ProxyClient proxyClient;
  private final UpgradeLoop loop;
  private final long startedNanos;
  private final Runnable onClosed;
  private final Downstream downstream = new Downstream();
  private final Upstream upstream = new Upstream();
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

  /**
   * @param leftover what the backend sent right after its 101 head, the connection's first bytes
   */
  UpgradedConnection(String exchangeId, ResponseHead switchHead, BackendChannel backend, byte[] leftover,
      ProxyClient proxyClient, UpgradeLoop loop, long startedNanos, Runnable onClosed) {
    this.exchangeId = exchangeId;
    this.switchHead = switchHead;
    this.backend = backend;
    this.leftover = leftover;
    this.proxyClient = proxyClient;
    this.loop = loop;
    this.startedNanos = startedNanos;
    this.onClosed = onClosed;
  }

  /** Starts both calls and hands the backend channel to the loop. */
  void start() {
    try {
      backend.switchToNonBlocking();
    } catch (IOException e) {
      loop.execute(() -> close("the backend connection failed: " + Reasons.describe(e)));
    }
    downstream.start();
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
      }
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
      downstream.offer(dataFrame(buffer));
      bytesToClient.addAndGet(n);
    }
  }

  private static ByteBuffer dataFrame(ByteBuffer data) {
    byte[] frame = new byte[Frames.HEADER_LENGTH + data.remaining()];
    Frames.putHeader(frame, 0, Frames.DATA, data.remaining());
    data.get(frame, Frames.HEADER_LENGTH, data.remaining());
    return ByteBuffer.wrap(frame);
  }

  /** The response call took every piece: read the backend again (TLS may hold decrypted bytes). */
  private void resumeReading() {
    if (closing) {
      return;
    }
    readFromBackend();
    updateInterest();
  }

  private void clientBytes(int consumed, List<ByteBuffer> data, boolean end, String abort) {
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
    upstream.grant();
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

  /**
   * The response call's body: the head frame, then one data frame at a time as the loop reads the
   * backend, then the end (or abort) frame. Written on the HTTP client's I/O thread.
   */
  private final class Downstream implements AsyncEntityProducer {

    private final ArrayDeque<ByteBuffer> frames = new ArrayDeque<>();
    private DataStreamChannel channel;
    private boolean finishing;
    private boolean ended;
    private boolean headSent;

    synchronized void start() {
      frames.add(ByteBuffer.wrap(Frames.frame(Frames.HEAD, WireJson.write(switchHead))));
      if (leftover.length > 0) {
        frames.add(dataFrame(ByteBuffer.wrap(leftover)));
        bytesToClient.addAndGet(leftover.length);
      }
    }

    /** True when no data frame waits: the loop may read the backend. */
    synchronized boolean isIdle() {
      return frames.isEmpty() && !finishing;
    }

    synchronized boolean headSent() {
      return headSent;
    }

    void offer(ByteBuffer frame) {
      DataStreamChannel wake;
      synchronized (this) {
        if (finishing) {
          return;
        }
        frames.add(frame);
        wake = channel;
      }
      if (wake != null) {
        wake.requestOutput();
      }
    }

    /** Queues the last frame; the call ends once it is sent. */
    void finish(ByteBuffer lastFrame) {
      DataStreamChannel wake;
      synchronized (this) {
        if (finishing) {
          return;
        }
        finishing = true;
        frames.add(lastFrame);
        wake = channel;
      }
      if (wake != null) {
        wake.requestOutput();
      }
    }

    @Override
    public synchronized int available() {
      int bytes = 0;
      for (ByteBuffer frame : frames) {
        bytes += frame.remaining();
      }
      return bytes;
    }

    @Override
    public void produce(DataStreamChannel output) throws IOException {
      boolean drained;
      synchronized (this) {
        channel = output;
        if (ended) {
          return;
        }
        boolean wroteSome = false;
        while (!frames.isEmpty()) {
          ByteBuffer next = frames.peek();
          output.write(next);
          if (next.hasRemaining()) {
            break;
          }
          frames.poll();
          headSent = true;
          wroteSome = true;
        }
        drained = wroteSome && frames.isEmpty();
        if (drained && finishing) {
          ended = true;
          output.endStream();
          return;
        }
      }
      if (drained) {
        loop.execute(UpgradedConnection.this::resumeReading);
      }
    }

    @Override
    public boolean isRepeatable() {
      return false;
    }

    @Override
    public void failed(Exception cause) {
      // The call's callback reports it.
    }

    @Override
    public long getContentLength() {
      return -1;
    }

    @Override
    public String getContentType() {
      return Protocol.FRAMES_TYPE;
    }

    @Override
    public String getContentEncoding() {
      return null;
    }

    @Override
    public boolean isChunked() {
      return true;
    }

    @Override
    public Set<String> getTrailerNames() {
      return null;
    }

    @Override
    public void releaseResources() {
      // The backend channel is the connection's, closed by it.
    }
  }

  /**
   * The request-body call's answer: the client's bytes as data frames, up to its end frame. Read
   * on the HTTP client's I/O thread; the call is given more capacity only once the backend took
   * what came before.
   */
  private final class Upstream implements AsyncResponseConsumer<Void> {

    private final FrameReader reader = new FrameReader(false);
    /** Bytes consumed since the call was last given capacity; on the loop's thread. */
    private long unacknowledged;
    private volatile CapacityChannel capacity;
    private FutureCallback<Void> done;

    @Override
    public void consumeResponse(HttpResponse response, EntityDetails entity, HttpContext context,
        FutureCallback<Void> resultCallback) {
      if (response.getCode() != 200 || entity == null) {
        int status = response.getCode();
        closeLater("the proxy refused the client's side (" + status + ")");
        resultCallback.completed(null);
        return;
      }
      done = resultCallback;
    }

    @Override
    public void informationResponse(HttpResponse response, HttpContext context) {
      // Not expected; nothing to do.
    }

    @Override
    public void updateCapacity(CapacityChannel channel) {
      capacity = channel;
      loop.execute(() -> {
        if (toBackend.isEmpty() && !backend.hasPendingOutput()) {
          grant();
        }
      });
    }

    void consumed(int bytes) {
      unacknowledged += bytes;
    }

    /** The backend took everything: let the call deliver as much again. On the loop's thread. */
    void grant() {
      CapacityChannel channel = capacity;
      if (channel == null || unacknowledged == 0) {
        return;
      }
      int bytes = (int) Math.min(Integer.MAX_VALUE, unacknowledged);
      unacknowledged -= bytes;
      try {
        channel.update(bytes);
      } catch (IOException e) {
        close("the client's side ended: " + Reasons.describe(e));
      }
    }

    @Override
    public void consume(ByteBuffer src) {
      int length = src.remaining();
      byte[] copy = new byte[length];
      src.get(copy);
      ByteBuffer in = ByteBuffer.wrap(copy);
      List<ByteBuffer> data = new ArrayList<>(2);
      boolean end = false;
      String abort = null;
      try {
        decoding:
        while (true) {
          switch (reader.next(in)) {
            case DATA:
              data.add(ByteBuffer.wrap(copy, reader.dataOffset(), reader.dataLength()));
              break;
            case END:
              end = true;
              break decoding;
            case ABORT:
              abort = "the proxy aborted it: " + reader.abortReason();
              break decoding;
            default:
              break decoding;
          }
        }
      } catch (FrameException e) {
        abort = "broken framing: " + e.getMessage();
      }
      boolean ended = end;
      String aborted = abort;
      loop.execute(() -> clientBytes(length, data, ended, aborted));
    }

    @Override
    public void streamEnd(List<? extends Header> trailers) {
      if (!reader.isFinished()) {
        closeLater("the client's side ended: the stream was cut short");
      }
      FutureCallback<Void> callback = done;
      if (callback != null) {
        callback.completed(null);
      }
    }

    @Override
    public void failed(Exception cause) {
      closeLater("the client's side ended: " + Reasons.describe(cause));
    }

    @Override
    public void releaseResources() {
      // Nothing held.
    }
  }
}
