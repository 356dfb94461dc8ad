package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class BackoffTest {

  /** A "random" source that always picks the top of the range, exposing the ceilings. */
  private static final RandomGenerator HIGHEST = new RandomGenerator() {
    @Override
    public long nextLong() {
      throw new UnsupportedOperationException();
    }

    @Override
    public long nextLong(long bound) {
      return bound - 1;
    }
  };

  @Test
  void ceilingDoublesFromHalfASecondUpToTheCap() {
    Backoff backoff = new Backoff(Duration.ofSeconds(30), HIGHEST);
    long[] expected = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
    for (long millis : expected) {
      assertEquals(Duration.ofMillis(millis), backoff.next());
    }
    for (int i = 0; i < 100; i++) {
      assertEquals(Duration.ofSeconds(30), backoff.next(), "stays at the cap without overflowing");
    }
  }

  @Test
  void resetStartsOver() {
    Backoff backoff = new Backoff(Duration.ofSeconds(30), HIGHEST);
    backoff.next();
    backoff.next();
    backoff.reset();
    assertEquals(Duration.ofMillis(500), backoff.next());
  }

  @Test
  void capBelowTheFirstStepWins() {
    Backoff backoff = new Backoff(Duration.ofMillis(200), HIGHEST);
    assertEquals(Duration.ofMillis(200), backoff.next());
    assertEquals(Duration.ofMillis(200), backoff.max());
  }

  @Test
  void fullJitterStaysWithinZeroAndTheCeiling() {
    Backoff backoff = new Backoff(Duration.ofSeconds(5), new SplittableRandom(42));
    long minSeen = Long.MAX_VALUE;
    long maxSeen = 0;
    for (int attempt = 0; attempt < 2000; attempt++) {
      long ceiling = Math.min(5000, 500L << Math.min(attempt, 30));
      long millis = backoff.next().toMillis();
      assertTrue(millis >= 0 && millis <= ceiling, "attempt " + attempt + ": " + millis + " > " + ceiling);
      minSeen = Math.min(minSeen, millis);
      maxSeen = Math.max(maxSeen, millis);
    }
    assertTrue(minSeen < 500, "jitter reaches low values: " + minSeen);
    assertTrue(maxSeen > 4500, "jitter reaches the cap region: " + maxSeen);
  }
}
