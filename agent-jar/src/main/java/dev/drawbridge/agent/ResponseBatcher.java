package dev.drawbridge.agent;

import dev.drawbridge.protocol.BatchAnswer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Sends complete small responses to the proxy in batches. An exchange that finds fewer than {@link
 * #SENDERS} batches in flight sends everything queued in one call; the others queue and wait for
 * the call that carries them. Under load many responses share one call; alone, a response goes
 * out at once. No timer holds anything back. Where the way to the node passes streams on, a
 * response goes into the node's open {@link ResponseStream} instead.
 */
final class ResponseBatcher {

  /** Batch calls in flight at once: one being written while the proxy answers another. */
  static final int SENDERS = 2;

  /** A batch stops growing past this many bytes; the rest goes in the next call. */
  static final int MAX_BATCH_BYTES = 1 << 20;

  private final Sender sender;
  private final Duration maxWait;
  private final Outcome timedOut;
  private final ArrayDeque<Entry> queue = new ArrayDeque<>();
  private int senders;
  /** The node's response streams, once its link started with them wanted; else null. */
  private volatile ResponseStream streams;

  /**
   * @param maxWait longest a response waits for the call carrying it to be answered; beyond the
   *     proxy call timeout, since the call ahead of it may take that long too
   */
  ResponseBatcher(Sender sender, Duration maxWait) {
    this.sender = sender;
    this.maxWait = maxWait;
    this.timedOut = new Outcome(0, null,
        new IOException("no response batch carried it within " + Durations.format(maxWait)));
  }

  /** From now on, responses go into {@code streams} whenever it streams to the node. */
  void streamWith(ResponseStream streams) {
    this.streams = streams;
  }

  /** The node's response streams, or null. */
  ResponseStream streams() {
    return streams;
  }

  /** The call that carries a batch: {@link ProxyClient#sendBatch}. */
  interface Sender {
    ProxyClient.BatchResult send(List<byte[]> frames) throws IOException;
  }

  /** What became of one response. */
  record Outcome(int status, String message, IOException failure) {

    static final Outcome DELIVERED = new Outcome(204, null, null);

    /** Not written into a response stream (it broke first): the response goes in a plain batch. */
    static final Outcome UNSENT = new Outcome(0, null, new IOException("not written into the response stream"));

    boolean delivered() {
      return status == 204;
    }
  }

  private record Entry(String exchangeId, byte[] frame, CompletableFuture<Outcome> outcome) {}

  /**
   * Queues one response frame (from {@code BatchedResponse.frame}), or writes it into the node's
   * open response stream (see {@link ResponseStream#submit}). The outcome completes once the
   * proxy answered the call that carried it, on the thread that made the call, or after {@code
   * maxWait} with a failure (a frame still queued then is not sent). When fewer than {@link #SENDERS} calls
   * are in flight, the calling thread makes the calls itself before this returns, until the queue
   * is empty; every sender empties the queue before it gives up its place.
   */
  CompletableFuture<Outcome> submit(String exchangeId, byte[] frame) {
    ResponseStream streaming = streams;
    if (streaming != null) {
      CompletableFuture<Outcome> streamed = streaming.submit(frame);
      if (streamed != null) {
        // Usually already flushed by this thread: no stage to add then.
        Outcome now = streamed.getNow(null);
        if (now != null && now != Outcome.UNSENT) {
          return streamed;
        }
        return streamed.thenCompose(outcome -> outcome == Outcome.UNSENT
            ? submitPlain(exchangeId, frame) : CompletableFuture.completedFuture(outcome));
      }
    }
    return submitPlain(exchangeId, frame);
  }

  private CompletableFuture<Outcome> submitPlain(String exchangeId, byte[] frame) {
    Entry entry = new Entry(exchangeId, frame, new CompletableFuture<>());
    CompletableFuture<Outcome> outcome = entry.outcome()
        .completeOnTimeout(timedOut, maxWait.toMillis(), TimeUnit.MILLISECONDS)
        .thenApply(result -> {
          if (result == timedOut) {
            forget(entry);
          }
          return result;
        });
    boolean sender;
    synchronized (this) {
      queue.add(entry);
      sender = senders < SENDERS;
      if (sender) {
        senders++;
      }
    }
    if (sender) {
      sendQueued();
    }
    return outcome;
  }

  /** A response that timed out leaves the queue, so that it holds no memory and is never sent. */
  private synchronized void forget(Entry entry) {
    queue.remove(entry);
  }

  /** Responses waiting for a call, for tests. */
  synchronized int queued() {
    return queue.size();
  }

  /** Sends batches until the queue is empty, then gives up the sender's place. */
  private void sendQueued() {
    boolean emptied = false;
    try {
      while (true) {
        List<Entry> batch = new ArrayList<>();
        synchronized (this) {
          int bytes = 0;
          while (!queue.isEmpty() && (batch.isEmpty() || bytes + queue.peek().frame().length <= MAX_BATCH_BYTES)) {
            Entry next = queue.poll();
            bytes += next.frame().length;
            batch.add(next);
          }
          if (batch.isEmpty()) {
            senders--;
            emptied = true;
            return;
          }
        }
        sendBatch(batch);
      }
    } finally {
      if (!emptied) {
        synchronized (this) {
          senders--;
        }
      }
    }
  }

  private void sendBatch(List<Entry> batch) {
    List<byte[]> frames = new ArrayList<>(batch.size());
    for (Entry entry : batch) {
      frames.add(entry.frame());
    }
    ProxyClient.BatchResult result;
    try {
      result = sender.send(frames);
    } catch (IOException | RuntimeException e) {
      IOException failure = e instanceof IOException io ? io : new IOException(e);
      batch.forEach(entry -> entry.outcome().complete(new Outcome(0, null, failure)));
      return;
    }
    Map<String, BatchAnswer.Refusal> refused = new HashMap<>();
    for (BatchAnswer.Refusal refusal : result.refused()) {
      refused.putIfAbsent(refusal.exchange(), refusal);
    }
    for (Entry entry : batch) {
      BatchAnswer.Refusal refusal = refused.get(entry.exchangeId());
      if (refusal != null) {
        entry.outcome().complete(new Outcome(refusal.status(), refusal.message(), null));
      } else if (result.status() == 204 || result.status() == 200) {
        entry.outcome().complete(Outcome.DELIVERED);
      } else {
        entry.outcome().complete(new Outcome(result.status(), result.message(), null));
      }
    }
  }
}
