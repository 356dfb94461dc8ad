package dev.drawbridge.it.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The lines a child process prints on stdout and stderr. They are echoed with a prefix (so a
 * failed test's report shows them), kept for diagnostics, and queued for {@link #awaitLine}.
 */
public final class ProcessOutput {

  private final String name;
  private final BlockingQueue<String> unread = new LinkedBlockingQueue<>();
  private final List<String> all = new CopyOnWriteArrayList<>();

  public ProcessOutput(String name, Process process) {
    this.name = name;
    pump(process.getInputStream(), "out");
    pump(process.getErrorStream(), "err");
  }

  /**
   * Waits for the next line matching {@code regex} (found anywhere in the line); lines before it
   * are passed over. Fails with everything the process printed if none comes in time.
   */
  public String awaitLine(String regex, Duration timeout) {
    Pattern pattern = Pattern.compile(regex);
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (true) {
        String line = unread.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (line == null) {
          throw new AssertionError(
              name + " printed no line matching /" + regex + "/ within " + timeout + "; it printed:\n"
                  + String.join("\n", all));
        }
        if (pattern.matcher(line).find()) {
          return line;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for " + name, e);
    }
  }

  /** Passes over every line printed so far: {@link #awaitLine} then sees only later ones. */
  public void skipPrinted() {
    unread.clear();
  }

  /** Every line printed so far, both streams interleaved in arrival order. */
  public List<String> lines() {
    return List.copyOf(all);
  }

  private void pump(InputStream stream, String streamName) {
    // Daemon threads: a pump ends when the process closes its end, and never keeps the JVM alive.
    Thread pump = new Thread(() -> copyLines(stream, streamName), name + "-" + streamName);
    pump.setDaemon(true);
    pump.start();
  }

  private void copyLines(InputStream stream, String streamName) {
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        all.add(line);
        unread.add(line);
        System.out.println("[" + name + "] " + line);
      }
    } catch (IOException e) {
      // The process was killed while we read: its output simply ends here.
      all.add("(" + streamName + " closed: " + e.getMessage() + ")");
    }
  }
}
