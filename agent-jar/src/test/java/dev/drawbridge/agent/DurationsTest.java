package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @ParameterizedTest(name = "{0} = {1} ms")
  @CsvSource({
    "500ms, 500",
    "0ms, 0",
    "10s, 10000",
    "10, 10000",
    "0, 0",
    "2m, 120000",
    "1h, 3600000",
    "' 15s ', 15000",
    "999999999ms, 999999999",
  })
  void parses(String text, long millis) {
    assertEquals(Duration.ofMillis(millis), Durations.parse(text));
  }

  @ParameterizedTest(name = "rejects ''{0}''")
  @ValueSource(strings = {"", "s", "-1", "1.5s", "10 s", "10sec", "1d", "ms500", "0x10", "1e3", "1234567890"})
  void rejects(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
    assertEquals("'" + text + "' is not a duration (use e.g. 500ms, 10s, 2m or a number of seconds)", e.getMessage());
  }

  @ParameterizedTest(name = "{0} ms formats as {1}")
  @CsvSource({"500, 500ms", "1500, 1500ms", "10000, 10s", "0, 0s", "120000, 2m", "90000, 90s", "7200000, 2h"})
  void formats(long millis, String text) {
    assertEquals(text, Durations.format(Duration.ofMillis(millis)));
    assertEquals(Duration.ofMillis(millis), Durations.parse(text));
  }
}
