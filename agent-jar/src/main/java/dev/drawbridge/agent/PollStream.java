package dev.drawbridge.agent;

import dev.drawbridge.protocol.PollResult;
import dev.drawbridge.protocol.PollUnits;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.apache.hc.core5.http.ClassicHttpResponse;

/**
 * The answers of one poll, read one at a time: a plain poll's single answer, or a streamed poll's
 * answers as the proxy sends them. Read by one poller at a time.
 */
final class PollStream implements Closeable {

  /** Shortest time a stream must have been open before its timing shows that it passes. */
  static final long VERDICT_MILLIS = 200;

  /** Shortest time a stream must have been open before its timing shows that it was held back. */
  static final long HELD_BACK_MILLIS = 1_000;

  private final ClassicHttpResponse response;
  private final InputStream in;
  private final long callWithinMillis;
  /** When the first answer of a streamed poll arrived, on {@link System#nanoTime()}; null before. */
  private Long firstNanos;
  private PollResult single;
  private boolean ended;

  private PollStream(ClassicHttpResponse response, InputStream in, long callWithinMillis, PollResult single) {
    this.callWithinMillis = callWithinMillis;
    this.response = response;
    this.in = in;
    this.single = single;
    this.ended = single != null;
  }

  /** A plain poll's answer. */
  static PollStream of(PollResult result) {
    return new PollStream(null, null, 0, result);
  }

  /**
   * A streamed poll's open answer; closing the stream closes {@code response}.
   *
   * @param callWithinMillis how soon the proxy expects a call after work was taken from the stream
   */
  static PollStream open(ClassicHttpResponse response, long callWithinMillis) throws IOException {
    return new PollStream(response, response.getEntity().getContent(), callWithinMillis, null);
  }

  /** True for a streamed poll's answers. */
  boolean streamed() {
    return response != null;
  }

  /** How soon the proxy expects a call after work was taken from this stream. */
  long callWithinMillis() {
    return callWithinMillis;
  }

  /**
   * What {@code result}, just read, says of the way to the proxy: true when it passes the stream on
   * as it is written, false when it holds it back, null when the stream has been open too short to
   * tell. The proxy stamps each answer with the time since the stream began; if this agent
   * received it much sooner than that after the first, something between them collected the stream.
   *
   * @param now when {@code result} arrived, on {@link System#nanoTime()}
   */
  Boolean passesOn(PollResult result, long now) {
    if (firstNanos == null) {
      firstNanos = now;
      return null;
    }
    long seenMillis = (now - firstNanos) / 1_000_000;
    if (seenMillis * 2 >= result.streamMillis()) {
      return result.streamMillis() >= VERDICT_MILLIS ? Boolean.TRUE : null;
    }
    // The agent reads the first answer a moment after it arrived, later on a busy machine; a
    // stream held back for a poll wait is held for seconds.
    return result.streamMillis() >= HELD_BACK_MILLIS ? Boolean.FALSE : null;
  }

  /** The next answer, waiting for it; null once the poll ended. */
  PollResult next() throws IOException {
    if (single != null) {
      PollResult result = single;
      single = null;
      return result;
    }
    if (in == null) {
      return null;
    }
    PollResult result = PollUnits.read(in);
    if (result == null) {
      ended = true;
      return null;
    }
    return withLists(result);
  }

  /** {@code result} with its absent lists as empty ones, so the rest of the agent need not care. */
  static PollResult withLists(PollResult result) {
    return new PollResult(
        result.exchanges() == null ? List.of() : result.exchanges(),
        result.cancelled() == null ? List.of() : result.cancelled(),
        result.draining(),
        result.streamMillis());
  }

  /** True once no further answer can come. */
  boolean ended() {
    return ended && single == null;
  }

  @Override
  public void close() throws IOException {
    if (response != null) {
      response.close();
    }
  }
}
