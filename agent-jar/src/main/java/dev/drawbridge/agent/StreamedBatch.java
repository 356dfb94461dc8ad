package dev.drawbridge.agent;

import dev.drawbridge.protocol.Frames;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The body of one streamed batch call ({@link ResponseStream}): the responses written into it by
 * the exchanges themselves while the call runs, then the end frame once the stream was ended, quiet
 * or open long enough. What it carried is kept until the call's answer.
 */
final class StreamedBatch extends FramesEntity {

  private static final byte[] END = Frames.end();

  /** A stream that only checks the way: it carries nothing and ends at once. */
  final boolean check;
  /** Responses waiting to be written, each with its outcome; guarded by this. */
  private List<Queued> queued = new ArrayList<>();
  /** The call's body once it is being written; guarded by this. */
  private OutputStream call;
  /** An exchange's thread is writing to {@link #call}; guarded by this. */
  private boolean writing;
  /** Takes no more responses; guarded by this. */
  private boolean ended;
  private IOException failure;
  private long bytes;
  /** The frames written, kept until the call's answer; guarded by this. */
  private final List<byte[]> carried = new ArrayList<>();
  private long lastWriteNanos;
  private final Duration quiet;
  private final Duration most;

  /**
   * @param check a stream that only checks the way, carrying nothing
   * @param quiet the stream ends once no response came for this long
   * @param most the stream ends once open this long
   */
  StreamedBatch(boolean check, Duration quiet, Duration most) {
    super(-1);
    this.check = check;
    this.quiet = quiet;
    this.most = most;
  }

  synchronized boolean takes() {
    return !ended;
  }

  synchronized List<byte[]> carriedFrames() {
    return List.copyOf(carried);
  }

  /** Stops taking responses, and wakes the call's thread to end the stream. */
  synchronized void end() {
    ended = true;
    notifyAll();
  }

  private record Queued(byte[] frame, CompletableFuture<ResponseBatcher.Outcome> outcome) {}

  /** The call ended or broke: every response still queued is left to a plain batch. */
  void fail(IOException cause) {
    List<Queued> failed;
    synchronized (this) {
      ended = true;
      if (failure == null) {
        failure = cause;
      }
      failed = takeQueued();
      notifyAll();
    }
    failed.forEach(response -> response.outcome().complete(ResponseBatcher.Outcome.UNSENT));
  }

  /** What is queued, leaving the queue empty; guarded by this. */
  private List<Queued> takeQueued() {
    List<Queued> taken = queued;
    queued = new ArrayList<>();
    return taken;
  }

  /**
   * Queues {@code frame}; the first thread to find nobody writing writes everything queued and
   * flushes. Null when this stream takes no more responses.
   */
  CompletableFuture<ResponseBatcher.Outcome> offer(byte[] frame) {
    CompletableFuture<ResponseBatcher.Outcome> outcome = new CompletableFuture<>();
    synchronized (this) {
      if (ended) {
        return null;
      }
      queued.add(new Queued(frame, outcome));
      bytes += frame.length;
      if (bytes >= ResponseStream.BUDGET_BYTES) {
        ended = true;
      }
      if (call == null || writing) {
        return outcome;
      }
      writing = true;
    }
    writeQueued();
    return outcome;
  }

  /**
   * Writes and flushes what is queued until nothing is; only while {@link #writing} is ours. Each
   * flushed group's outcomes complete at once, so their exchanges end (and free their slots)
   * while this thread writes the next group. No thread waits for a stream's call while it holds
   * an exchange's outcome, so an exchange's end may run here.
   */
  private void writeQueued() {
    while (true) {
      List<Queued> group;
      synchronized (this) {
        if (queued.isEmpty() || failure != null) {
          writing = false;
          lastWriteNanos = System.nanoTime();
          notifyAll();
          return;
        }
        group = takeQueued();
      }
      try {
        for (Queued response : group) {
          call.write(response.frame());
        }
        call.flush();
      } catch (IOException e) {
        synchronized (this) {
          writing = false;
          notifyAll();
        }
        fail(e);
        // Perhaps never written (a kept-alive connection the node had closed): a plain batch then.
        group.forEach(response -> response.outcome().complete(ResponseBatcher.Outcome.UNSENT));
        return;
      }
      synchronized (this) {
        group.forEach(response -> carried.add(response.frame()));
      }
      group.forEach(response -> response.outcome().complete(ResponseBatcher.Outcome.DELIVERED));
    }
  }

  /**
   * Runs on the call's thread: writes what queued before the call was open, then waits while
   * exchanges write, until the stream is ended, quiet for {@link #quiet} or open
   * for {@link #most}, and ends it with the end frame.
   */
  @Override
  public void writeTo(OutputStream out) throws IOException {
    long startNanos = System.nanoTime();
    synchronized (this) {
      if (failure != null) {
        throw failure;
      }
      call = out;
      writing = true;
      if (check) {
        ended = true;
      }
    }
    writeQueued();
    synchronized (this) {
      try {
        while (true) {
          if (failure != null) {
            throw failure;
          }
          if (writing) {
            wait();
            continue;
          }
          long now = System.nanoTime();
          long left = Math.min(lastWriteNanos + quiet.toNanos(), startNanos + most.toNanos()) - now;
          if (ended || left <= 0) {
            break;
          }
          TimeUnit.NANOSECONDS.timedWait(this, left);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while streaming responses", e);
      } finally {
        ended = true;
      }
      out.write(END);
    }
  }
}
