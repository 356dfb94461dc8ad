package dev.drawbridge.it.container;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The lines a container wrote to its own log files since this watch began. Containers write logs
 * asynchronously, so a test waits for a line with {@link #awaitLine}; because each file is written
 * in order, once a later line is there every earlier one is too, which is how a test proves that a
 * warning was <em>not</em> logged.
 */
final class ServerLog {

  private final Path directory;
  private final Pattern fileName;
  private final Map<Path, Long> startOffsets = new HashMap<>();

  /** Watches the files in {@code directory} whose names match {@code fileNameRegex}. */
  ServerLog(Path directory, String fileNameRegex) {
    this.directory = directory;
    this.fileName = Pattern.compile(fileNameRegex);
    for (Path file : files()) {
      startOffsets.put(file, size(file));
    }
  }

  /** Every line written since the watch began, over all watched files. */
  List<String> lines() {
    StringBuilder text = new StringBuilder();
    for (Path file : files()) {
      text.append(readFrom(file, startOffsets.getOrDefault(file, 0L)));
    }
    return text.toString().lines().toList();
  }

  /** The first new line matching {@code regex} (anywhere in the line), waiting up to {@code timeout}. */
  String awaitLine(String regex, Duration timeout) {
    Pattern pattern = Pattern.compile(regex);
    return await("a line matching /" + regex + "/ in the logs under " + directory)
        .atMost(timeout)
        .until(() -> lines().stream().filter(line -> pattern.matcher(line).find()).findFirst(), Optional::isPresent)
        .orElseThrow();
  }

  /** Waits up to {@code timeout} until at least {@code count} new lines match {@code regex}. */
  void awaitLines(String regex, int count, Duration timeout) {
    await(count + " lines matching /" + regex + "/ in the logs under " + directory)
        .atMost(timeout)
        .until(() -> linesMatching(regex).size() >= count);
  }

  /** New lines matching {@code regex}, as written so far. */
  List<String> linesMatching(String regex) {
    Pattern pattern = Pattern.compile(regex);
    return lines().stream().filter(line -> pattern.matcher(line).find()).toList();
  }

  private List<Path> files() {
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    try (Stream<Path> listing = Files.list(directory)) {
      return listing.filter(file -> fileName.matcher(file.getFileName().toString()).matches()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String readFrom(Path file, long offset) {
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      long length = in.length() - offset;
      if (length <= 0) {
        return "";
      }
      byte[] bytes = new byte[(int) length];
      in.seek(offset);
      in.readFully(bytes);
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
