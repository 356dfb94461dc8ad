package dev.drawbridge.proxy.exchange;

import java.util.List;
import java.util.Map;

/**
 * One backend's ended exchanges over the last few minutes, as the admin API serialises it.
 *
 * @param windowSeconds how far back the numbers reach
 * @param bucketSeconds width of one point of {@code series}
 * @param requests exchanges that ended in the window, whatever their outcome
 * @param failures of those, the ones that did not complete (proxy errors, timeouts, clients gone)
 * @param statusClasses counts by the status the client got ("1xx" to "5xx")
 * @param ratePerSecond requests per second over the last 5 to 10 seconds
 * @param p50Millis median total time over the window
 * @param p90Millis 90th percentile total time over the window
 * @param p99Millis 99th percentile total time over the window
 * @param series one point per bucket, oldest first; the last one is still filling
 */
public record RecentStats(
    long windowSeconds,
    long bucketSeconds,
    long requests,
    long failures,
    Map<String, Long> statusClasses,
    double ratePerSecond,
    double p50Millis,
    double p90Millis,
    double p99Millis,
    List<Point> series) {

  /**
   * One bucket.
   *
   * @param start bucket start, milliseconds since the epoch
   * @param serverErrors exchanges answered with a 5xx, the proxy's own 502/503/504 included
   */
  public record Point(
      long start,
      long requests,
      long serverErrors,
      long failures,
      double p50Millis,
      double p90Millis,
      double p99Millis) {}
}
