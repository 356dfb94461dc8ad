package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.drawbridge.protocol.PollResult;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a streamed poll's timing says of the way to the proxy; the times are given, not read. */
class PollStreamTest {

  private static final long START = 1_000_000_000L;

  @Test
  void aStreamArrivingAsWrittenPassesOn() {
    PollStream stream = PollStream.of(answer(0));
    assertNull(stream.passesOn(answer(0), START), "the first answer only starts the count");
    assertEquals(Boolean.TRUE, stream.passesOn(answer(2_000), START + millis(1_990)));
    // Scheduling on a busy machine delays an answer; it does not hurry one.
    assertEquals(Boolean.TRUE, stream.passesOn(answer(3_000), START + millis(3_400)));
  }

  @Test
  void answersArrivingTogetherThatWereWrittenApartWereHeldBack() {
    PollStream stream = PollStream.of(answer(0));
    stream.passesOn(answer(0), START);
    assertEquals(Boolean.FALSE, stream.passesOn(answer(2_000), START + millis(3)));
  }

  @Test
  void aStreamOpenTooShortTellsNothing() {
    PollStream stream = PollStream.of(answer(0));
    stream.passesOn(answer(0), START);
    assertNull(stream.passesOn(answer(PollStream.VERDICT_MILLIS - 1), START + millis(PollStream.VERDICT_MILLIS - 1)));
  }

  @Test
  void aShortStallOfThisMachineIsNotTakenForAStreamHeldBack() {
    // The first answer was read 600 ms after it arrived, and the next was waiting by then.
    PollStream stream = PollStream.of(answer(0));
    stream.passesOn(answer(0), START + millis(600));
    assertNull(stream.passesOn(answer(PollStream.HELD_BACK_MILLIS - 1), START + millis(601)));
  }

  private static PollResult answer(long streamMillis) {
    return new PollResult(List.of(), List.of(), false, streamMillis);
  }

  private static long millis(long millis) {
    return TimeUnit.MILLISECONDS.toNanos(millis);
  }
}
