package dev.drawbridge.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ResponseLengthTest {

  /** What the relay does with a stream of data regions and then an end frame. */
  enum Outcome {
    /** Every region written, the end accepted: the client got exactly the promised body. */
    COMPLETE,
    /** A region was refused before it was written: it would run past the length. */
    OVERRUN,
    /** Every region written, but the end came early: an abort, never a complete response. */
    SHORT
  }

  static Stream<Arguments> streams() {
    return Stream.of(
        // method, status, declared Content-Length, data regions, outcome
        Arguments.of("GET", 200, 20L, new long[] {20}, Outcome.COMPLETE),
        Arguments.of("GET", 200, 20L, new long[] {7, 6, 7}, Outcome.COMPLETE),
        Arguments.of("GET", 200, 20L, new long[] {5}, Outcome.SHORT),
        Arguments.of("GET", 200, 20L, new long[] {}, Outcome.SHORT),
        Arguments.of("GET", 200, 20L, new long[] {19}, Outcome.SHORT),
        Arguments.of("GET", 200, 20L, new long[] {21}, Outcome.OVERRUN),
        Arguments.of("GET", 200, 20L, new long[] {10, 11}, Outcome.OVERRUN),
        Arguments.of("GET", 200, 20L, new long[] {20, 1}, Outcome.OVERRUN),
        Arguments.of("POST", 201, 0L, new long[] {}, Outcome.COMPLETE),
        Arguments.of("POST", 201, 0L, new long[] {1}, Outcome.OVERRUN),
        // No declared length: the container frames the body (chunked), any count fits.
        Arguments.of("GET", 200, -1L, new long[] {}, Outcome.COMPLETE),
        Arguments.of("GET", 200, -1L, new long[] {1 << 20, 1 << 20, 3}, Outcome.COMPLETE),
        Arguments.of("GET", 500, -1L, new long[] {42}, Outcome.COMPLETE),
        // Bodies that must be empty, whatever the head declared.
        Arguments.of("HEAD", 200, 20L, new long[] {}, Outcome.COMPLETE),
        Arguments.of("HEAD", 200, 20L, new long[] {20}, Outcome.OVERRUN),
        Arguments.of("HEAD", 200, -1L, new long[] {1}, Outcome.OVERRUN),
        Arguments.of("head", 200, -1L, new long[] {1}, Outcome.OVERRUN),
        Arguments.of("GET", 204, -1L, new long[] {}, Outcome.COMPLETE),
        Arguments.of("GET", 204, -1L, new long[] {1}, Outcome.OVERRUN),
        // 205 is framed like any other status: a client reads the length it declares.
        Arguments.of("GET", 205, 0L, new long[] {3}, Outcome.OVERRUN),
        Arguments.of("GET", 205, 3L, new long[] {3}, Outcome.COMPLETE),
        Arguments.of("GET", 304, 10L, new long[] {}, Outcome.COMPLETE),
        Arguments.of("GET", 304, 10L, new long[] {10}, Outcome.OVERRUN),
        Arguments.of("GET", 103, -1L, new long[] {1}, Outcome.OVERRUN));
  }

  @ParameterizedTest(name = "{0} {1} Content-Length {2}, data {3}: {4}")
  @MethodSource("streams")
  void aStreamedBodyEndsNormallyOnlyAtItsExactLength(
      String method, int status, long declared, long[] regions, Outcome expected) {
    ResponseLength length = ResponseLength.of(method, status, declared);
    Outcome outcome = null;
    for (long region : regions) {
      long before = length.counted();
      if (!length.admit(region)) {
        assertEquals(before, length.counted(), "a refused region counts nothing");
        outcome = Outcome.OVERRUN;
        break;
      }
    }
    if (outcome == null) {
      outcome = length.complete() ? Outcome.COMPLETE : Outcome.SHORT;
    }
    assertEquals(expected, outcome, () -> "regions " + Arrays.toString(regions));
  }

  @ParameterizedTest(name = "{0} {1} Content-Length {2}, data {3}: {4}")
  @MethodSource("streams")
  void aWholeBodyFitsOnlyWhenTheStreamOfItsBytesWould(
      String method, int status, long declared, long[] regions, Outcome expected) {
    long whole = Arrays.stream(regions).sum();
    assertEquals(expected == Outcome.COMPLETE, ResponseLength.of(method, status, declared).fitsWhole(whole));
  }

  @Test
  void bodiesThatMustBeEmptyAreKnownByMethodAndStatus() {
    assertTrue(ResponseLength.mustBeEmpty("HEAD", 200));
    assertTrue(ResponseLength.mustBeEmpty("GET", 100));
    assertTrue(ResponseLength.mustBeEmpty("GET", 204));
    assertFalse(ResponseLength.mustBeEmpty("GET", 205));
    assertTrue(ResponseLength.mustBeEmpty("GET", 304));
    assertFalse(ResponseLength.mustBeEmpty("GET", 200));
    assertFalse(ResponseLength.mustBeEmpty("GET", 404));
    assertEquals(0, ResponseLength.of("HEAD", 200, 20).expected());
    assertEquals(-1, ResponseLength.of("GET", 200, -1).expected());
  }

  @Test
  void theMismatchSaysWhatWasDeclaredAndWhatCame() {
    assertEquals("The response body ended after 5 of its 20 declared bytes.", ResponseLength.of("GET", 200, 20).mismatch(5));
    assertEquals("The response body ran past its 20 declared bytes (25 bytes sent).", ResponseLength.of("GET", 200, 20).mismatch(25));
    assertEquals("The response must have no body, but 3 body bytes were sent.", ResponseLength.of("HEAD", 200, 20).mismatch(3));
  }

  @Test
  void aNegativeCountIsAProgrammingError() {
    assertThrows(IllegalArgumentException.class, () -> ResponseLength.of("GET", 200, 20).admit(-1));
  }
}
