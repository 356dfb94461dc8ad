package dev.drawbridge.it.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Thread dumps of another JVM through {@code jcmd PID Thread.print -l}, which also runs the JVM's
 * deadlock detection (monitors and {@code java.util.concurrent} locks) and reports each cycle
 * under "Found one Java-level deadlock".
 */
public final class ThreadDump {

  private static final Pattern DEADLOCK = Pattern.compile("Found (one|\\d+) Java-level deadlocks?:");
  private static final long JCMD_TIMEOUT_SECONDS = 60;

  private ThreadDump() {}

  /**
   * The deadlock section of process {@code pid}'s thread dump, or null when it has none. A process
   * that ended meanwhile has none.
   */
  public static String deadlocks(long pid) {
    String dump = print(pid);
    if (dump == null) {
      return null;
    }
    Matcher found = DEADLOCK.matcher(dump);
    return found.find() ? dump.substring(found.start()) : null;
  }

  /** The names of the threads of process {@code pid} (Java threads and the JVM's own). */
  public static List<String> threadNames(long pid) {
    String dump = print(pid);
    if (dump == null) {
      throw new AssertionError("process " + pid + " is gone");
    }
    List<String> names = new java.util.ArrayList<>();
    for (String line : dump.split("\n")) {
      if (line.startsWith("\"")) {
        int end = line.indexOf('"', 1);
        if (end > 0) {
          names.add(line.substring(1, end));
        }
      }
    }
    return names;
  }

  /** The whole thread dump of {@code pid}, or null when the process is gone. */
  public static String print(long pid) {
    if (!isAlive(pid)) {
      return null;
    }
    java.nio.file.Path jcmd = BuiltArtifacts.javaLauncher().resolveSibling("jcmd");
    try {
      Process process =
          new ProcessBuilder(List.of(jcmd.toString(), Long.toString(pid), "Thread.print", "-l"))
              .redirectErrorStream(true)
              .start();
      byte[] output = process.getInputStream().readAllBytes();
      if (!process.waitFor(JCMD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("jcmd " + pid + " Thread.print did not finish within " + JCMD_TIMEOUT_SECONDS + " s");
      }
      String text = new String(output, StandardCharsets.UTF_8);
      if (process.exitValue() != 0) {
        // The process may have exited between the check and the attach.
        if (isAlive(pid)) {
          throw new AssertionError("jcmd " + pid + " Thread.print failed: " + text);
        }
        return null;
      }
      return text;
    } catch (IOException e) {
      throw new AssertionError("cannot run " + jcmd, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while taking a thread dump", e);
    }
  }

  private static boolean isAlive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }
}
