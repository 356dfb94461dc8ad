package dev.drawbridge.proxy.exchange;

/**
 * Durations counted in log-scale bins (four per doubling, 1 ms to about 2 minutes), so a five-minute
 * window keeps percentiles in constant memory. A percentile is the upper bound of its bin, at most
 * 19% high, and never more than the largest duration seen. Not thread-safe: its owner locks.
 */
final class LatencyHistogram {

  private static final int BINS_PER_DOUBLING = 4;

  /** Bin 0 holds everything up to 1 ms; the last bin everything from about 2 minutes up. */
  private static final int BINS = BINS_PER_DOUBLING * 17 + 2;

  private final long[] counts = new long[BINS];
  private long total;
  private double maxMillis;

  void record(double millis) {
    counts[bin(millis)]++;
    total++;
    maxMillis = Math.max(maxMillis, millis);
  }

  void addAll(LatencyHistogram other) {
    for (int i = 0; i < BINS; i++) {
      counts[i] += other.counts[i];
    }
    total += other.total;
    maxMillis = Math.max(maxMillis, other.maxMillis);
  }

  long count() {
    return total;
  }

  /**
   * The duration, in milliseconds, that {@code quantile} (0 to 1) of the recorded ones did not
   * exceed; 0 when nothing was recorded.
   */
  double percentile(double quantile) {
    if (total == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(quantile * total));
    long seen = 0;
    for (int i = 0; i < BINS; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return Math.min(upperBoundMillis(i), maxMillis);
      }
    }
    return maxMillis;
  }

  private static int bin(double millis) {
    if (millis <= 1) {
      return 0;
    }
    int bin = 1 + (int) Math.floor(BINS_PER_DOUBLING * Math.log(millis) / Math.log(2));
    return Math.min(bin, BINS - 1);
  }

  private static double upperBoundMillis(int bin) {
    return bin == BINS - 1 ? Double.MAX_VALUE : Math.pow(2, (double) bin / BINS_PER_DOUBLING);
  }
}
