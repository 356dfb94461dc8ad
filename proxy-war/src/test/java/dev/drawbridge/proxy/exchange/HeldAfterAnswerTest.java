package dev.drawbridge.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Requests held after their answer are let go when their body idles, after the most time, or on a drain. */
class HeldAfterAnswerTest {

  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  private final HeldAfterAnswer held = new HeldAfterAnswer();
  private final AtomicLong bytesRead = new AtomicLong();
  private final AtomicInteger released = new AtomicInteger();

  @Test
  void aRequestWhoseBodyGoesOnArrivingIsHeldUntilTheMostTime() {
    long start = 1_000 * SECOND;
    held.hold("client", start, bytesRead::get, released::incrementAndGet);
    for (long now = start + SECOND; now - start < HeldAfterAnswer.MOST_NANOS; now += SECOND) {
      bytesRead.addAndGet(64 * 1024);
      held.sweep(now);
      assertEquals(0, released.get(), "released while the body still arrived");
    }
    held.sweep(start + HeldAfterAnswer.MOST_NANOS);
    assertEquals(1, released.get());
    held.sweep(start + HeldAfterAnswer.MOST_NANOS + SECOND);
    assertEquals(1, released.get(), "released twice");
    assertEquals(0, held.size());
  }

  @Test
  void aRequestWhoseBodyStopsIsLetGoOnceItIdled() {
    long start = 5 * SECOND;
    held.hold("client", start, bytesRead::get, released::incrementAndGet);
    bytesRead.set(1000);
    held.sweep(start + 2 * SECOND);
    held.sweep(start + 2 * SECOND + HeldAfterAnswer.IDLE_NANOS - 1);
    assertEquals(0, released.get(), "released before the body idled for the whole idle time");
    held.sweep(start + 2 * SECOND + HeldAfterAnswer.IDLE_NANOS);
    assertEquals(1, released.get());
  }

  @Test
  void aRequestWhoseBodyEndedIsNotLetGoAgain() {
    held.hold("client", 0, bytesRead::get, released::incrementAndGet);
    held.forget("client");
    held.sweep(HeldAfterAnswer.MOST_NANOS);
    assertEquals(0, released.get());
  }

  @Test
  void aDrainLetsGoOfEveryHeldRequestAtOnce() {
    held.hold("one", 0, bytesRead::get, released::incrementAndGet);
    held.hold("two", 0, bytesRead::get, released::incrementAndGet);
    held.releaseAll();
    assertEquals(2, released.get());
    held.sweep(HeldAfterAnswer.MOST_NANOS);
    assertEquals(2, released.get());
  }
}
