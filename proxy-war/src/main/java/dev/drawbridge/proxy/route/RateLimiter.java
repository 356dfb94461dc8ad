package dev.drawbridge.proxy.route;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A token bucket per client address for one route. Memory is bounded: at most {@code maxClients}
 * buckets are kept, least recently used first out. An evicted address starts again with a full
 * bucket, so under a flood of distinct addresses the limit weakens rather than memory growing.
 */
public final class RateLimiter {

  /** Default number of client addresses remembered per route. */
  public static final int DEFAULT_MAX_CLIENTS = 10_000;

  private final double perSecond;
  private final double burst;
  private final LongSupplier nanoClock;
  private final LinkedHashMap<String, Bucket> buckets;

  private static final class Bucket {
    double tokens;
    long updatedNanos;
  }

  public RateLimiter(double perSecond, int burst, int maxClients, LongSupplier nanoClock) {
    if (perSecond <= 0 || burst < 1 || maxClients < 1) {
      throw new IllegalArgumentException("rate, burst and maxClients must be positive");
    }
    this.perSecond = perSecond;
    this.burst = burst;
    this.nanoClock = nanoClock;
    this.buckets =
        new LinkedHashMap<>(16, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > maxClients;
          }
        };
  }

  /**
   * Takes one token for {@code client}. Returns 0 when the request may pass, else the whole
   * seconds (at least 1) after which the next token is there, for {@code Retry-After}.
   */
  public synchronized long acquire(String client) {
    long now = nanoClock.getAsLong();
    Bucket bucket = buckets.get(client);
    if (bucket == null) {
      bucket = new Bucket();
      bucket.tokens = burst;
      bucket.updatedNanos = now;
      buckets.put(client, bucket);
    } else {
      double refill = (now - bucket.updatedNanos) / 1e9 * perSecond;
      bucket.tokens = Math.min(burst, bucket.tokens + refill);
      bucket.updatedNanos = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, (long) Math.ceil((1 - bucket.tokens) / perSecond));
  }

  /** Number of client addresses remembered now. */
  public synchronized int size() {
    return buckets.size();
  }
}
