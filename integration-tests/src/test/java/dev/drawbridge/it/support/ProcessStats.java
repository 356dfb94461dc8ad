package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a child JVM such as a {@link ForkedProxyServer} holds, read the way an operator would:
 * threads and open files from {@code /proc}, heap after a full collection from {@code jcmd}.
 */
public final class ProcessStats {

  private static final Pattern THREADS = Pattern.compile("^Threads:\\s+(\\d+)$", Pattern.MULTILINE);
  /** "garbage-first heap total 65536K, used 12345K" (G1); other collectors word it alike. */
  private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");
  private static final long JCMD_TIMEOUT_SECONDS = 30;

  /**
   * One reading.
   *
   * @param threads threads of the process
   * @param openFiles open file descriptors (sockets included)
   * @param heapUsedBytes heap in use right after a full collection
   */
  public record Snapshot(int threads, int openFiles, long heapUsedBytes) {

    @Override
    public String toString() {
      return threads + " threads, " + openFiles + " open files, " + heapUsedBytes / 1024 + " KiB heap after GC";
    }
  }

  private ProcessStats() {}

  /** Threads, open files and heap after a full collection of process {@code pid}, now. */
  public static Snapshot take(long pid) {
    long heap = heapUsedAfterGc(pid);
    return new Snapshot(threads(pid), openFiles(pid), heap);
  }

  /** The {@code Threads:} line of {@code /proc/PID/status}. */
  public static int threads(long pid) {
    String status = read(Path.of("/proc", Long.toString(pid), "status"));
    Matcher threads = THREADS.matcher(status);
    if (!threads.find()) {
      throw new AssertionError("no Threads line in /proc/" + pid + "/status");
    }
    return Integer.parseInt(threads.group(1));
  }

  /** Entries of {@code /proc/PID/fd}. */
  public static int openFiles(long pid) {
    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      return (int) fds.count();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the open files of process " + pid, e);
    }
  }

  /** The live objects of process {@code pid} by class, as {@code jcmd GC.class_histogram} prints them. */
  public static String histogram(long pid) {
    return jcmd(pid, "GC.class_histogram");
  }

  /** Runs a full collection in process {@code pid} with {@code jcmd}, then reads the heap in use. */
  public static long heapUsedAfterGc(long pid) {
    jcmd(pid, "GC.run");
    Matcher used = HEAP_USED.matcher(jcmd(pid, "GC.heap_info"));
    if (!used.find()) {
      throw new AssertionError("jcmd GC.heap_info of process " + pid + " named no heap in use");
    }
    return Long.parseLong(used.group(1)) * 1024;
  }

  private static String jcmd(long pid, String command) {
    Path jcmd = BuiltArtifacts.javaLauncher().resolveSibling("jcmd");
    try {
      Process process =
          new ProcessBuilder(List.of(jcmd.toString(), Long.toString(pid), command)).redirectErrorStream(true).start();
      byte[] output = process.getInputStream().readAllBytes();
      if (!process.waitFor(JCMD_TIMEOUT_SECONDS, TimeUnit.SECONDS) || process.exitValue() != 0) {
        process.destroyForcibly();
        throw new AssertionError("jcmd " + pid + " " + command + " failed: " + new String(output, StandardCharsets.UTF_8));
      }
      return new String(output, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + jcmd, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while running jcmd", e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
