package dev.drawbridge.agent;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/** One line per record: {@code 2026-11-22T03:10:11.123Z INFO  message}. */
public final class LogFormat extends Formatter {

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX").withZone(ZoneOffset.UTC);

  @Override
  public String format(LogRecord record) {
    StringBuilder line = new StringBuilder(160);
    TIME.formatTo(record.getInstant(), line);
    line.append(' ');
    String label = label(record.getLevel());
    line.append(label);
    for (int i = label.length(); i < 5; i++) {
      line.append(' ');
    }
    line.append(' ').append(formatMessage(record));
    if (record.getThrown() != null) {
      StringWriter trace = new StringWriter();
      record.getThrown().printStackTrace(new PrintWriter(trace));
      line.append(System.lineSeparator()).append(trace.toString().stripTrailing());
    }
    return line.append(System.lineSeparator()).toString();
  }

  /** Level names operators know from other tools. */
  static String label(Level level) {
    int value = level.intValue();
    if (value >= Level.SEVERE.intValue()) {
      return "ERROR";
    }
    if (value >= Level.WARNING.intValue()) {
      return "WARN";
    }
    if (value >= Level.CONFIG.intValue()) {
      return "INFO";
    }
    if (value >= Level.FINE.intValue()) {
      return "DEBUG";
    }
    return "TRACE";
  }
}
