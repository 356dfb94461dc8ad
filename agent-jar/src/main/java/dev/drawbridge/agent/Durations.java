package dev.drawbridge.agent;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as users type them on the command line: {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h}, or bare seconds. */
final class Durations {

  private static final Pattern SYNTAX = Pattern.compile("(\\d{1,9})(ms|s|m|h)?");

  private Durations() {}

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException with a one-sentence reason when {@code text} is not a duration
   */
  static Duration parse(String text) {
    Matcher matcher = SYNTAX.matcher(text.trim());
    if (!matcher.matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a duration (use e.g. 500ms, 10s, 2m or a number of seconds)");
    }
    long amount = Long.parseLong(matcher.group(1));
    String unit = matcher.group(2) == null ? "s" : matcher.group(2);
    switch (unit) {
      case "ms":
        return Duration.ofMillis(amount);
      case "m":
        return Duration.ofMinutes(amount);
      case "h":
        return Duration.ofHours(amount);
      default:
        return Duration.ofSeconds(amount);
    }
  }

  /** The shortest exact form of {@code duration} in the same syntax, e.g. {@code 1500ms} or {@code 2m}. */
  static String format(Duration duration) {
    long millis = duration.toMillis();
    if (millis % 1000 != 0) {
      return millis + "ms";
    }
    long seconds = millis / 1000;
    if (seconds != 0 && seconds % 3600 == 0) {
      return seconds / 3600 + "h";
    }
    if (seconds != 0 && seconds % 60 == 0) {
      return seconds / 60 + "m";
    }
    return seconds + "s";
  }

  /** Seconds with one decimal, for "retrying in 2.5 s" log lines. */
  static String seconds(Duration duration) {
    return String.format(java.util.Locale.ROOT, "%.1f", duration.toMillis() / 1000.0);
  }
}
