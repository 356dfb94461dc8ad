package dev.drawbridge.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PollUnitsTest {

  private static final RequestHead HEAD =
      new RequestHead("ex-1", "app", "GET", "/a?b=c", List.of(new HeaderField("Accept", "*/*")), BodyMode.NONE, 0, null);

  @Test
  void answersFollowOneAnotherAndTheStreamEndsAfterAWholeOne() throws Exception {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    stream.write(PollUnits.encode(new PollResult(List.of(), List.of(), false)));
    stream.write(PollUnits.encode(new PollResult(List.of(HEAD), List.of("ex-0"), false, 1234)));
    stream.write(PollUnits.encode(new PollResult(List.of(), List.of(), true, 2000)));
    InputStream in = new ByteArrayInputStream(stream.toByteArray());

    assertEquals(new PollResult(List.of(), List.of(), false, 0), PollUnits.read(in));
    assertEquals(new PollResult(List.of(HEAD), List.of("ex-0"), false, 1234), PollUnits.read(in));
    assertEquals(new PollResult(List.of(), List.of(), true, 2000), PollUnits.read(in));
    assertNull(PollUnits.read(in));
  }

  @Test
  void aStreamEndingInsideAnAnswerIsAnError() {
    byte[] unit = PollUnits.encode(new PollResult(List.of(HEAD), List.of(), false, 5));
    for (int cut : new int[] {1, 3, 4, unit.length - 1}) {
      InputStream in = new ByteArrayInputStream(Arrays.copyOf(unit, cut));
      FrameException e = assertThrows(FrameException.class, () -> PollUnits.read(in), "cut at " + cut);
      assertTrue(e.getMessage().contains("ended inside"), e.getMessage());
    }
  }

  @Test
  void anAnswerClaimingMoreThanTheLimitIsRefusedBeforeItIsRead() {
    InputStream in = new ByteArrayInputStream(new byte[] {0x7f, 0, 0, 0, '{'});
    FrameException e = assertThrows(FrameException.class, () -> PollUnits.read(in));
    assertTrue(e.getMessage().contains("more than the"), e.getMessage());
  }
}
