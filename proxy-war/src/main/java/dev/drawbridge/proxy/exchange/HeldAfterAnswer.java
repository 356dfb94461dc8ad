package dev.drawbridge.proxy.exchange;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Client requests held open after their answer, while the rest of a body the service did not
 * read is read and dropped (see the web layer's request-body relay), as nginx's lingering close
 * does. A held request is let go once nothing of its body arrived for {@link #IDLE_NANOS}, after
 * {@link #MOST_NANOS} in all, or at once when the proxy drains: a container does not always tell
 * that such a client closed its connection, and a container stopping the application waits for
 * every request it still holds. The tunnel's sweep checks them on the tunnel's clock.
 */
final class HeldAfterAnswer {

  /** A held request whose body brought nothing for this long is let go, as nginx's {@code lingering_timeout}. */
  static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(5);

  /** No request is held longer than this after its answer, as nginx's {@code lingering_time}. */
  static final long MOST_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final Map<Object, Held> held = new ConcurrentHashMap<>();

  /**
   * Holds the request known by {@code key} from {@code now}; {@code bytesRead} counts what of its
   * body arrived so far, and {@code release} lets it go (once, on the sweeping thread).
   */
  void hold(Object key, long now, LongSupplier bytesRead, Runnable release) {
    held.put(key, new Held(now, bytesRead, release));
  }

  /** The request's body ended, or its request ended otherwise: it is no longer held. */
  void forget(Object key) {
    held.remove(key);
  }

  int size() {
    return held.size();
  }

  /** Lets go of each request idle or held too long; the reaper calls it on every sweep. */
  void sweep(long now) {
    held.forEach((key, request) -> {
      if (request.due(now) && held.remove(key, request)) {
        request.release.run();
      }
    });
  }

  /** Lets go of every held request, as the proxy drains. */
  void releaseAll() {
    for (Object key : List.copyOf(held.keySet())) {
      Held request = held.remove(key);
      if (request != null) {
        request.release.run();
      }
    }
  }

  private static final class Held {
    private final long since;
    private final LongSupplier bytesRead;
    private final Runnable release;
    private long lastBytes;
    private long lastProgress;

    Held(long since, LongSupplier bytesRead, Runnable release) {
      this.since = since;
      this.bytesRead = bytesRead;
      this.release = release;
      this.lastBytes = bytesRead.getAsLong();
      this.lastProgress = since;
    }

    /** Only the sweeping thread calls this. */
    boolean due(long now) {
      long bytes = bytesRead.getAsLong();
      if (bytes != lastBytes) {
        lastBytes = bytes;
        lastProgress = now;
      }
      return now - since - MOST_NANOS >= 0 || now - lastProgress - IDLE_NANOS >= 0;
    }
  }
}
