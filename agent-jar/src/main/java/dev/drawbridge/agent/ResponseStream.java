package dev.drawbridge.agent;

import dev.drawbridge.protocol.BatchAnswer;
import dev.drawbridge.protocol.Protocol;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.hc.core5.http.io.entity.AbstractHttpEntity;

/**
 * Carries whole small responses to one proxy node on a batch call that stays open while they keep
 * coming (a streamed batch, {@link Protocol#RESPONSE_STREAM_HEADER}), so a busy agent makes no call
 * per response. The exchange whose response is whole writes it into the open stream itself, with
 * any that queued while another exchange was writing, and flushes once: no thread hand-off, and
 * under load one write carries several responses.
 *
 * <p>A stream only pays if it reaches the node as it is written. Something on the way that
 * collects a request body whole first (nginx with its default {@code proxy_request_buffering on})
 * would hold every response in it back until the stream ended. So the agent checks the way first,
 * with a stream that carries nothing, and streams only once the node said it arrived as sent; until
 * then, and for a while after a node said it was collected, responses go in plain batches.
 */
final class ResponseStream {

  private static final Logger LOG = Logger.getLogger(ResponseStream.class.getName());

  /** A stream that carried nothing for this long ends; the next response opens another. */
  static final Duration QUIET = Duration.ofSeconds(1);
  /** No stream stays open longer, well within {@link Protocol#STREAM_TIMEOUT_SECONDS}. */
  static final Duration MOST = Duration.ofSeconds(10);
  /**
   * A stream takes no more responses once it carried this many bytes: what it carried is kept until
   * its answer, to be sent again if it breaks.
   */
  static final long BUDGET_BYTES = ResponseBatcher.MAX_BATCH_BYTES;
  /** How long after a node said its way collects streams the way is checked again. */
  static final Duration RECHECK = Duration.ofMinutes(1);

  /** The call that carries a stream: {@link ProxyClient#sendStream}. */
  interface Sender {
    ProxyClient.BatchResult send(AbstractHttpEntity stream) throws IOException;
  }

  private final Sender sender;
  private final ResponseBatcher.Sender again;
  private final Executor carriers;
  private final String node;
  private final Duration quiet;
  private final Duration most;

  /** The node's last verdict: true passes streams on, false collects them, null not known yet. */
  private Boolean passes;
  /** When the way may be checked (again), on {@link System#nanoTime()}. */
  private long checkDueNanos = System.nanoTime();
  private boolean checking;
  /** The node does not know streamed batches: the way is not checked again. */
  private boolean neverCheck;
  /** The stream taking responses now, or null. */
  private StreamedBatch open;
  /** Streams whose calls have not ended; the drain waits for them. */
  private final List<StreamedBatch> running = new ArrayList<>();
  private boolean closing;

  /**
   * @param sender makes a stream's call
   * @param again sends the responses of a stream that broke again, in a plain batch
   */
  ResponseStream(Sender sender, ResponseBatcher.Sender again, Executor carriers, String node) {
    this(sender, again, carriers, node, QUIET, MOST);
  }

  ResponseStream(Sender sender, ResponseBatcher.Sender again, Executor carriers, String node, Duration quiet,
      Duration most) {
    this.sender = sender;
    this.again = again;
    this.carriers = carriers;
    this.node = node;
    this.quiet = quiet;
    this.most = most;
  }

  /**
   * Writes {@code frame} (from {@code BatchedResponse.frame}) into the open stream, opening one when
   * none is; null when streams are not to be used now, and the caller sends a plain batch. The
   * outcome completes once the frame was flushed to the node (what the node made of it comes with
   * the stream's answer, and is logged; if the stream breaks later, it is sent again), or with
   * {@link ResponseBatcher.Outcome#UNSENT} when the stream broke before it was written, and the
   * caller sends it in a plain batch.
   */
  CompletableFuture<ResponseBatcher.Outcome> submit(byte[] frame) {
    while (true) {
      StreamedBatch stream;
      synchronized (this) {
        if (!Boolean.TRUE.equals(passes) || closing) {
          checkIfDue();
          return null;
        }
        if (open == null || !open.takes()) {
          open = new StreamedBatch(false, quiet, most);
          if (!start(open)) {
            open = null;
            return null;
          }
        }
        stream = open;
      }
      CompletableFuture<ResponseBatcher.Outcome> outcome = stream.offer(frame);
      if (outcome != null) {
        return outcome;
      }
    }
  }

  /** Streams are in use to this node now: the way passed them on when last checked. */
  synchronized boolean streaming() {
    return Boolean.TRUE.equals(passes) && !closing;
  }

  /** Starts a check of the way when one is due; guarded by this. */
  private void checkIfDue() {
    if (checking || closing || neverCheck || System.nanoTime() - checkDueNanos < 0) {
      return;
    }
    checking = true;
    if (!start(new StreamedBatch(true, quiet, most))) {
      checking = false;
    }
  }

  /** Sends {@code stream} on a carrier; false when the agent stops. Guarded by this. */
  private boolean start(StreamedBatch stream) {
    running.add(stream);
    try {
      carriers.execute(() -> send(stream));
      return true;
    } catch (RejectedExecutionException e) {
      running.remove(stream);
      return false;
    }
  }

  private void send(StreamedBatch stream) {
    ProxyClient.BatchResult result = null;
    IOException failure = null;
    try {
      result = sender.send(stream);
    } catch (IOException | RuntimeException e) {
      failure = e instanceof IOException io ? io : new IOException(e);
    } finally {
      // Nothing is queued once the call ended well; whatever still is after a failure fails with it.
      stream.fail(failure == null ? new IOException("the stream's call ended") : failure);
    }
    boolean quietly;
    synchronized (this) {
      running.remove(stream);
      notifyAll();
      if (stream.check) {
        checking = false;
      }
      quietly = closing;
      if (result != null && (result.status() == 204 || result.status() == 200)) {
        judge(result.stream());
      } else if (stream.check) {
        // The node could not answer the check (it drains, or refused the call): ask again later.
        checkDueNanos = System.nanoTime() + RECHECK.toNanos();
      }
    }
    if (failure != null) {
      List<byte[]> carried = stream.carriedFrames();
      if (!carried.isEmpty()) {
        sendAgain(carried, failure, quietly);
      }
      return;
    }
    for (BatchAnswer.Refusal refusal : result.refused()) {
      Exchange.logRefusal(refusal.exchange(), refusal.status(), refusal.message());
    }
    if (result.status() != 204 && result.status() != 200 && !stream.carriedFrames().isEmpty()) {
      LOG.warning("Proxy " + node + " ended a response stream with " + result.status() + ": " + result.message()
          + "; responses it had read before stand");
    }
  }

  /**
   * Sends the responses of a stream that broke again, in one plain batch: the connection may have
   * been gone before they were written into it (a kept-alive connection the node had closed). The
   * node refuses each one that did arrive, since its exchange was answered, so none reaches its
   * client twice.
   */
  private void sendAgain(List<byte[]> frames, IOException failure, boolean quietly) {
    LOG.log(quietly ? Level.FINE : Level.INFO, "The response stream to proxy " + node + " broke after "
        + frames.size() + " responses (" + Reasons.describe(failure) + "); sending them again in a batch call");
    ProxyClient.BatchResult result;
    try {
      result = again.send(frames);
    } catch (IOException | RuntimeException e) {
      LOG.log(quietly ? Level.FINE : Level.WARNING, "Could not send " + frames.size()
          + " responses of a broken stream to proxy " + node + " again: " + Reasons.describe(e)
          + "; the exchanges they answer fail at the proxy");
      return;
    }
    if (result.status() != 204 && result.status() != 200) {
      LOG.warning("Proxy " + node + " refused the batch of " + frames.size() + " responses of a broken stream ("
          + result.status() + ": " + result.message() + ")");
    }
    // Refusals are expected here: the responses that had arrived are answered already.
    LOG.fine(() -> result.refused().size() + " of " + frames.size()
        + " responses of a broken stream had reached proxy " + node + " already");
  }

  /** Takes the node's verdict on the way from a stream's answer; guarded by this. */
  private void judge(String verdict) {
    Boolean now = Protocol.STREAM_PASSED.equals(verdict) ? Boolean.TRUE
        : Protocol.STREAM_HELD.equals(verdict) ? Boolean.FALSE : null;
    if (now == null && passes == null) {
      // A node that does not know streamed batches: plain batches it is, for good.
      passes = Boolean.FALSE;
      neverCheck = true;
      LOG.info("Proxy " + node + " does not take streamed responses; sending them in batch calls");
      return;
    }
    if (now == null || now.equals(passes)) {
      if (Boolean.FALSE.equals(now)) {
        checkDueNanos = System.nanoTime() + RECHECK.toNanos();
      }
      return;
    }
    passes = now;
    if (now) {
      LOG.info("Responses streamed to proxy " + node + " reach it as they are written; sending them on streams");
    } else {
      checkDueNanos = System.nanoTime() + RECHECK.toNanos();
      if (open != null) {
        open.end();
      }
      LOG.warning("Something between this agent and proxy " + node
          + " collects streamed responses whole; sending them in batch calls while it does");
    }
  }

  /**
   * Ends the open stream without waiting; the next response opens another. For a node the agent
   * reached again after a failure or a drain: the node may now be another instance of the proxy (a
   * redeployed application), while a stream opened before can still reach the instance it was
   * opened to (a container lets a call in progress finish there), which knows none of the new
   * instance's exchanges and refuses their responses.
   */
  synchronized void renew() {
    if (open != null) {
      open.end();
      open = null;
    }
  }

  /**
   * Ends every stream at once, without waiting: for a node let go, whose connections close next.
   * Later responses go in batches; a stream cut by the close is not reported.
   */
  synchronized void end() {
    closing = true;
    running.forEach(StreamedBatch::end);
  }

  /**
   * Ends the open stream and waits up to {@code within} for the streams' calls to end: once no
   * exchange will send a response here (a drain, or a node let go). Later responses go in batches.
   */
  void finish(Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    synchronized (this) {
      closing = true;
      running.forEach(StreamedBatch::end);
      while (!running.isEmpty()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }
}
