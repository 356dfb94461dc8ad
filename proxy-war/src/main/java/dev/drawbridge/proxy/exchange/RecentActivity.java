package dev.drawbridge.proxy.exchange;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the tunnel did lately, for the operator: per backend a five-minute {@link ActivityWindow},
 * and the last {@link #FAILURES_KEPT} exchanges that did not complete, newest first. Fed by {@link
 * Tunnel} with every ended exchange.
 */
public final class RecentActivity {

  /** Failures kept for the admin page; enough to see a pattern, small enough to scan. */
  public static final int FAILURES_KEPT = 50;

  private final ConcurrentHashMap<String, ActivityWindow> windows = new ConcurrentHashMap<>();
  private final ArrayDeque<EndedExchange> failures = new ArrayDeque<>(FAILURES_KEPT);

  void record(EndedExchange exchange) {
    windows
        .computeIfAbsent(exchange.backendId(), id -> new ActivityWindow())
        .record(exchange, exchange.endedAt().toEpochMilli());
    if (!exchange.completed()) {
      synchronized (failures) {
        if (failures.size() == FAILURES_KEPT) {
          failures.removeLast();
        }
        failures.addFirst(exchange);
      }
    }
  }

  /** The backend's last five minutes as of {@code nowMillis} (epoch milliseconds). */
  public RecentStats stats(String backendId, long nowMillis) {
    ActivityWindow window = windows.get(backendId);
    return (window == null ? new ActivityWindow() : window).snapshot(nowMillis);
  }

  /** Exchanges that ended without completing, newest first. */
  public List<EndedExchange> failures() {
    synchronized (failures) {
      return Collections.unmodifiableList(new ArrayList<>(failures));
    }
  }
}
