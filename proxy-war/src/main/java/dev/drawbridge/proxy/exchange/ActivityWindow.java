package dev.drawbridge.proxy.exchange;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One backend's ended exchanges over the last {@link #BUCKETS} buckets of {@link #BUCKET_MILLIS}:
 * counts by status class and latency percentiles, for the admin page's plots. A ring of buckets
 * keyed by their start time, so memory stays constant however busy the backend is.
 */
final class ActivityWindow {

  /** Width of one bucket: one point of the admin page's plots. */
  static final long BUCKET_MILLIS = 5_000;

  /** Buckets kept: five minutes. */
  static final int BUCKETS = 60;

  private static final String[] CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

  private final Bucket[] ring = new Bucket[BUCKETS];

  /** Everything counted in one bucket. */
  private static final class Bucket {
    final long startMillis;
    final long[] byClass = new long[CLASSES.length];
    final LatencyHistogram latency = new LatencyHistogram();
    long requests;
    long failures;

    Bucket(long startMillis) {
      this.startMillis = startMillis;
    }
  }

  synchronized void record(EndedExchange exchange, long endedMillis) {
    Bucket bucket = bucketFor(endedMillis);
    bucket.requests++;
    int hundreds = exchange.status() / 100;
    if (hundreds >= 1 && hundreds <= 5) {
      bucket.byClass[hundreds - 1]++;
    }
    if (!exchange.completed()) {
      bucket.failures++;
    }
    bucket.latency.record(exchange.totalNanos() / 1e6);
  }

  private Bucket bucketFor(long millis) {
    long start = Math.floorDiv(millis, BUCKET_MILLIS) * BUCKET_MILLIS;
    int slot = (int) Math.floorMod(Math.floorDiv(millis, BUCKET_MILLIS), (long) BUCKETS);
    Bucket bucket = ring[slot];
    if (bucket == null || bucket.startMillis != start) {
      bucket = new Bucket(start);
      ring[slot] = bucket;
    }
    return bucket;
  }

  /** The window as it stands at {@code nowMillis}, oldest bucket first, empty buckets included. */
  synchronized RecentStats snapshot(long nowMillis) {
    long currentStart = Math.floorDiv(nowMillis, BUCKET_MILLIS) * BUCKET_MILLIS;
    long firstStart = currentStart - (BUCKETS - 1) * BUCKET_MILLIS;
    List<RecentStats.Point> series = new ArrayList<>(BUCKETS);
    long[] byClass = new long[CLASSES.length];
    LatencyHistogram all = new LatencyHistogram();
    long requests = 0;
    long failures = 0;
    for (long start = firstStart; start <= currentStart; start += BUCKET_MILLIS) {
      Bucket bucket = ring[(int) Math.floorMod(Math.floorDiv(start, BUCKET_MILLIS), (long) BUCKETS)];
      if (bucket == null || bucket.startMillis != start) {
        series.add(new RecentStats.Point(start, 0, 0, 0, 0, 0, 0));
        continue;
      }
      requests += bucket.requests;
      failures += bucket.failures;
      for (int i = 0; i < byClass.length; i++) {
        byClass[i] += bucket.byClass[i];
      }
      all.addAll(bucket.latency);
      series.add(
          new RecentStats.Point(
              start,
              bucket.requests,
              bucket.byClass[4],
              bucket.failures,
              round(bucket.latency.percentile(0.50)),
              round(bucket.latency.percentile(0.90)),
              round(bucket.latency.percentile(0.99))));
    }
    Map<String, Long> classes = new LinkedHashMap<>();
    for (int i = 0; i < CLASSES.length; i++) {
      classes.put(CLASSES[i], byClass[i]);
    }
    return new RecentStats(
        BUCKETS * BUCKET_MILLIS / 1000,
        BUCKET_MILLIS / 1000,
        requests,
        failures,
        classes,
        currentRate(series, nowMillis - currentStart),
        round(all.percentile(0.50)),
        round(all.percentile(0.90)),
        round(all.percentile(0.99)),
        series);
  }

  /**
   * Requests per second over the running bucket and the one before it: recent enough to follow a
   * load test, long enough not to flicker at each bucket boundary.
   */
  private static double currentRate(List<RecentStats.Point> series, long intoCurrentMillis) {
    int last = series.size() - 1;
    long requests = series.get(last).requests() + series.get(last - 1).requests();
    double seconds = (BUCKET_MILLIS + intoCurrentMillis) / 1000.0;
    return Math.round(requests / seconds * 100) / 100.0;
  }

  private static double round(double millis) {
    return Math.round(millis * 10) / 10.0;
  }
}
