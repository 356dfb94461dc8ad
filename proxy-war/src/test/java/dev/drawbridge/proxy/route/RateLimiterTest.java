package dev.drawbridge.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class RateLimiterTest {

  private final AtomicLong clock = new AtomicLong();

  @Test
  void allowsTheBurstThenRefusesWithRetryAfterUntilTokensRefill() {
    RateLimiter limiter = new RateLimiter(0.5, 2, 100, clock::get);
    assertEquals(0, limiter.acquire("a"));
    assertEquals(0, limiter.acquire("a"));
    assertEquals(2, limiter.acquire("a"), "one token every 2 s");
    clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
    assertEquals(1, limiter.acquire("a"));
    clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
    assertEquals(0, limiter.acquire("a"));
  }

  @Test
  void addressesHaveTheirOwnBuckets() {
    RateLimiter limiter = new RateLimiter(1, 1, 100, clock::get);
    assertEquals(0, limiter.acquire("a"));
    assertEquals(1, limiter.acquire("a"));
    assertEquals(0, limiter.acquire("b"));
  }

  @Test
  void idleTimeNeverBanksMoreThanTheBurst() {
    RateLimiter limiter = new RateLimiter(10, 3, 100, clock::get);
    limiter.acquire("a");
    clock.addAndGet(TimeUnit.HOURS.toNanos(1));
    for (int i = 0; i < 3; i++) {
      assertEquals(0, limiter.acquire("a"));
    }
    assertEquals(1, limiter.acquire("a"));
  }

  @Test
  void memoryIsBoundedByEvictingTheLeastRecentlyUsedAddress() {
    RateLimiter limiter = new RateLimiter(1, 1, 3, clock::get);
    for (int i = 0; i < 10_000; i++) {
      limiter.acquire("10.0." + (i / 256) + "." + (i % 256));
    }
    assertEquals(3, limiter.size());
  }
}
