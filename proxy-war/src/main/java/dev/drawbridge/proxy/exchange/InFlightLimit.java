package dev.drawbridge.proxy.exchange;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts client requests each backend holds, queued or at an agent, against the backend's {@code
 * maxInFlight}. A request is admitted before its exchange opens and released when the exchange
 * ends (through {@link Tunnel#addEndListener}), so the count bounds the proxy's memory per backend.
 */
public final class InFlightLimit {

  private final ConcurrentHashMap<String, Slots> counts = new ConcurrentHashMap<>();

  /** Counts one more request for {@code backend}; false (nothing counted) when it is at {@code max}, 0 = no limit. */
  public boolean tryAdmit(String backend, int max) {
    return counts.computeIfAbsent(backend, id -> new Slots()).tryTake(max);
  }

  /** Counts one request of {@code backend} less. */
  public void release(String backend) {
    Slots count = counts.get(backend);
    if (count != null) {
      count.release();
    }
  }

  /** Requests of {@code backend} counted now. */
  public int count(String backend) {
    Slots count = counts.get(backend);
    return count == null ? 0 : count.taken();
  }
}
