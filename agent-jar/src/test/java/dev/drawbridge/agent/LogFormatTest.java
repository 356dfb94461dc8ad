package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LogFormatTest {

  @ParameterizedTest
  @CsvSource({"SEVERE, ERROR", "WARNING, 'WARN '", "INFO, 'INFO '", "CONFIG, 'INFO '", "FINE, DEBUG", "FINEST, TRACE"})
  void oneLinePerRecordWithUtcMillisAndPaddedLevel(String level, String label) {
    LogRecord record = new LogRecord(Level.parse(level), "exchange {0}: done");
    record.setParameters(new Object[] {"abc"});
    record.setInstant(Instant.parse("2026-11-22T03:10:11Z"));
    assertEquals("2026-11-22T03:10:11.000Z " + label + " exchange abc: done" + System.lineSeparator(),
        new LogFormat().format(record));
  }
}
