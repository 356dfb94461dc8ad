package dev.drawbridge.proxy.exchange;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A nanosecond clock for {@link Tunnel} that moves only when the test moves it, so deadlines pass
 * exactly when the test says and never because the machine was slow.
 */
final class ManualClock implements LongSupplier {

  /** Not 0: the exchange reads 0 as "never happened" for some of its instants. */
  private final AtomicLong now = new AtomicLong(TimeUnit.HOURS.toNanos(1));

  @Override
  public long getAsLong() {
    return now.get();
  }

  void advance(Duration duration) {
    now.addAndGet(duration.toNanos());
  }
}
