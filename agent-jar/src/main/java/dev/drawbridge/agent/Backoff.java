package dev.drawbridge.agent;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Capped exponential backoff with full jitter: attempt n waits a uniformly random time in
 * [0, min(cap, initial * 2^n)]. Full jitter spreads many agents that lost the same proxy so that
 * they do not reconnect in lockstep. Not thread-safe: one per poller.
 */
final class Backoff {

  /** Ceiling of the first wait. */
  static final Duration INITIAL = Duration.ofMillis(500);

  private final long capMillis;
  private final RandomGenerator random;
  private int attempt;

  Backoff(Duration cap) {
    this(cap, new SplittableRandom());
  }

  Backoff(Duration cap, RandomGenerator random) {
    this.capMillis = Math.max(1, cap.toMillis());
    this.random = random;
  }

  /** The wait before the next attempt; each call doubles the ceiling up to the cap. */
  Duration next() {
    long ceiling = Math.min(capMillis, INITIAL.toMillis() << Math.min(attempt, 30));
    attempt++;
    return Duration.ofMillis(random.nextLong(ceiling + 1));
  }

  /** The cap itself, for failures that retrying soon cannot fix (a rejected token). */
  Duration max() {
    return Duration.ofMillis(capMillis);
  }

  /** Starts over after a success. */
  void reset() {
    attempt = 0;
  }
}
