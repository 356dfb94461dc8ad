package dev.drawbridge.agent;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/** Sends java.util.logging (and, through slf4j-jdk14, HttpClient's logging) to stdout, one line per record. */
final class Logging {

  // Strong references: java.util.logging forgets the level of a logger that was garbage collected.
  private static final Logger ROOT = Logger.getLogger("");
  private static final Logger HTTP_CLIENT = Logger.getLogger("org.apache.hc");

  /**
   * HttpClient logs every header (so the {@code Authorization: Bearer} token) and every byte at
   * debug; those two loggers stay quiet at every level so no log ever holds the token.
   */
  private static final Logger HTTP_HEADERS = Logger.getLogger("org.apache.hc.client5.http.headers");

  private static final Logger HTTP_WIRE = Logger.getLogger("org.apache.hc.client5.http.wire");

  private Logging() {}

  /** Replaces the default stderr handler with a flushing stdout handler at {@code level}. */
  static void configure(Level level) {
    for (Handler handler : ROOT.getHandlers()) {
      ROOT.removeHandler(handler);
    }
    StreamHandler stdout =
        new StreamHandler(System.out, new LogFormat()) {
          @Override
          public synchronized void publish(LogRecord record) {
            super.publish(record);
            // Operators tail this live, and the process may be halted at any moment.
            flush();
          }

          @Override
          public synchronized void close() {
            flush();
          }
        };
    stdout.setLevel(Level.ALL);
    ROOT.addHandler(stdout);
    ROOT.setLevel(level);
    // HttpClient's own chatter is only interesting when it is a problem; debug opens it one step.
    HTTP_CLIENT.setLevel(level.intValue() <= Level.FINEST.intValue() ? Level.FINE : Level.WARNING);
    HTTP_HEADERS.setLevel(Level.INFO);
    HTTP_WIRE.setLevel(Level.INFO);
  }
}
