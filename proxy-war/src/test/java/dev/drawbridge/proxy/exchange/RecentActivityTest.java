package dev.drawbridge.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The admin page's recent numbers: buckets, rates, percentiles and the failure ring. */
@Timeout(10)
class RecentActivityTest {

  /** A bucket boundary, so tests know which bucket each exchange lands in. */
  private static final long T0 = 1_700_000_000_000L - 1_700_000_000_000L % ActivityWindow.BUCKET_MILLIS;

  private static EndedExchange ended(String backend, int status, ExchangeState outcome, long millis, long endedAt) {
    return new EndedExchange(
        "x" + endedAt + status, backend, "GET", "/", status, outcome,
        outcome == ExchangeState.COMPLETED ? null : "why", null, "127.0.0.1", 0, 0,
        0, 0, TimeUnit.MILLISECONDS.toNanos(millis), Instant.ofEpochMilli(endedAt));
  }

  @Test
  void countsStatusClassesFailuresAndRateOverTheWindow() {
    RecentActivity activity = new RecentActivity();
    activity.record(ended("a", 200, ExchangeState.COMPLETED, 10, T0 + 100));
    activity.record(ended("a", 200, ExchangeState.COMPLETED, 20, T0 + 200));
    activity.record(ended("a", 404, ExchangeState.COMPLETED, 30, T0 + 5_100));
    activity.record(ended("a", 503, ExchangeState.EXPIRED, 1_000, T0 + 5_200));
    activity.record(ended("b", 200, ExchangeState.COMPLETED, 5, T0 + 5_300));

    RecentStats a = activity.stats("a", T0 + 7_500);

    assertEquals(4, a.requests());
    assertEquals(1, a.failures());
    assertEquals(2L, a.statusClasses().get("2xx"));
    assertEquals(1L, a.statusClasses().get("4xx"));
    assertEquals(1L, a.statusClasses().get("5xx"));
    assertEquals(ActivityWindow.BUCKETS, a.series().size());
    RecentStats.Point last = a.series().get(a.series().size() - 1);
    RecentStats.Point previous = a.series().get(a.series().size() - 2);
    assertEquals(T0 + 5_000, last.start());
    assertEquals(2, last.requests());
    assertEquals(1, last.serverErrors());
    assertEquals(2, previous.requests());
    // 4 requests over the previous bucket (5 s) and 2.5 s of the running one.
    assertEquals(4 / 7.5, a.ratePerSecond(), 0.01);
    assertEquals(1, activity.stats("b", T0 + 7_500).requests(), "backends are counted apart");
  }

  @Test
  void percentilesAreWithinOneBinOfTheTruth() {
    RecentActivity activity = new RecentActivity();
    for (int millis = 1; millis <= 100; millis++) {
      activity.record(ended("a", 200, ExchangeState.COMPLETED, millis, T0 + millis));
    }
    RecentStats stats = activity.stats("a", T0 + 1_000);
    assertBetween(50, 50 * 1.19, stats.p50Millis());
    assertBetween(90, 90 * 1.19, stats.p90Millis());
    assertBetween(99, 100, stats.p99Millis());
  }

  @Test
  void oldBucketsLeaveTheWindow() {
    RecentActivity activity = new RecentActivity();
    activity.record(ended("a", 200, ExchangeState.COMPLETED, 10, T0));
    long windowMillis = ActivityWindow.BUCKETS * ActivityWindow.BUCKET_MILLIS;
    assertEquals(1, activity.stats("a", T0 + windowMillis - 1).requests());
    assertEquals(0, activity.stats("a", T0 + windowMillis).requests());
    // A new exchange in the recycled slot must not inherit the old bucket's counts.
    activity.record(ended("a", 200, ExchangeState.COMPLETED, 10, T0 + windowMillis));
    assertEquals(1, activity.stats("a", T0 + windowMillis).requests());
  }

  @Test
  void keepsTheLastFiftyFailuresNewestFirst() {
    RecentActivity activity = new RecentActivity();
    for (int i = 0; i < RecentActivity.FAILURES_KEPT + 5; i++) {
      activity.record(ended("a", 502, ExchangeState.FAILED, 1, T0 + i));
      activity.record(ended("a", 200, ExchangeState.COMPLETED, 1, T0 + i));
    }
    List<EndedExchange> failures = activity.failures();
    assertEquals(RecentActivity.FAILURES_KEPT, failures.size());
    assertEquals(T0 + RecentActivity.FAILURES_KEPT + 4, failures.get(0).endedAt().toEpochMilli());
    assertTrue(failures.stream().noneMatch(EndedExchange::completed));
  }

  @Test
  void anUnknownBackendHasAnEmptyWindow() {
    RecentStats stats = new RecentActivity().stats("nobody", T0);
    assertEquals(0, stats.requests());
    assertEquals(0, stats.ratePerSecond());
    assertEquals(0, stats.p99Millis());
  }

  private static void assertBetween(double low, double high, double actual) {
    assertTrue(actual >= low && actual <= high, () -> actual + " not in [" + low + ", " + high + "]");
  }
}
