package dev.drawbridge.proxy.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The running configuration and every attempt to replace it. A reload reads the whole file,
 * validates all of it, and only then hands the new settings on; an invalid file changes nothing
 * and is reported in one line naming the file, the key and the reason, as at startup.
 *
 * <p>Two kinds of trigger: {@link #reload} (an operator asked) always counts its result, while
 * {@link #checkForChange} (the file watcher) acts only when the file's content differs from the
 * last content it saw, so an unchanged or still-invalid file is neither counted nor logged twice.
 */
public final class ConfigReloader {

  private static final Logger LOG = Logger.getLogger(ConfigReloader.class.getName());

  /** What a reload did. */
  public enum Result {
    /** The file was valid and differed from the running configuration: it runs now. */
    APPLIED,
    /** The file holds the running configuration already. */
    UNCHANGED,
    /** The file could not be read or is not valid: the running configuration stays. */
    INVALID
  }

  /** The result of one reload and the sentence that describes it. */
  public record Outcome(Result result, String message) {}

  /**
   * What the admin page shows.
   *
   * @param file the configuration file, or null on a first run without one
   * @param version 1 for the configuration the proxy started with, one more for each applied reload
   * @param sha256 hex SHA-256 of the running configuration file's bytes, null without a file
   * @param loadedAt when the running configuration was loaded
   * @param reloads reloads so far by result
   * @param lastErrorAt when a reload last failed, or null
   * @param lastError why it failed (file, key, reason), or null
   */
  public record Status(
      String file,
      long version,
      String sha256,
      Instant loadedAt,
      Map<Result, Long> reloads,
      Instant lastErrorAt,
      String lastError) {}

  private final Path file;
  private final Clock clock;
  private Consumer<ProxySettings> apply = settings -> {};
  private final EnumMap<Result, Long> counts = new EnumMap<>(Result.class);
  private ProxySettings current;
  private long version = 1;
  private String sha256;
  private String lastSeenSha256;
  private Instant loadedAt;
  private Instant lastErrorAt;
  private String lastError;

  private ConfigReloader(Path file, ProxySettings initial, String sha256, Clock clock) {
    this.file = file;
    this.clock = clock;
    this.current = initial;
    this.sha256 = sha256;
    this.lastSeenSha256 = sha256;
    this.loadedAt = clock.instant();
    for (Result result : Result.values()) {
      counts.put(result, 0L);
    }
  }

  /** Loads {@code file} for the start; a bad file stops the start, as it always did. */
  public static ConfigReloader load(Path file, Clock clock) throws ConfigException {
    byte[] bytes = read(file);
    return new ConfigReloader(file, parse(file, bytes), sha256(bytes), clock);
  }

  /** A proxy running on settings of its own (a first run): there is no file to reload. */
  public static ConfigReloader fixed(ProxySettings settings, Clock clock) {
    return new ConfigReloader(null, settings, null, clock);
  }

  /** Where applied settings go from now on, e.g. the tunnel. */
  public synchronized void onApply(Consumer<ProxySettings> target) {
    this.apply = target;
  }

  public synchronized ProxySettings current() {
    return current;
  }

  /** An operator asked: reads and applies the file, and counts the result whatever it is. */
  public synchronized Outcome reload(String trigger) {
    if (file == null) {
      return new Outcome(Result.INVALID, "No configuration file is set, so there is nothing to reload; the proxy runs on"
          + " its first-run defaults. Set " + ConfigLoader.CONFIG_PROPERTY + " and restart the proxy to use a file.");
    }
    byte[] bytes;
    try {
      bytes = read(file);
    } catch (ConfigException e) {
      return refuse(e, trigger);
    }
    return reload(bytes, trigger);
  }

  /** The file watcher's trigger: reloads only when the file's content changed since last seen. */
  public synchronized void checkForChange() {
    if (file == null) {
      return;
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      // Gone for a moment while an editor or a deployment tool replaces it; the next event decides.
      return;
    }
    if (!sha256(bytes).equals(lastSeenSha256)) {
      reload(bytes, "the file changed");
    }
  }

  private Outcome reload(byte[] bytes, String trigger) {
    String digest = sha256(bytes);
    lastSeenSha256 = digest;
    if (digest.equals(sha256)) {
      count(Result.UNCHANGED);
      return new Outcome(Result.UNCHANGED, file + " holds the running configuration (version " + version + "); nothing to apply.");
    }
    ProxySettings next;
    try {
      next = parse(file, bytes);
    } catch (ConfigException e) {
      return refuse(e, trigger);
    }
    String changes = ConfigChanges.describe(current, next);
    apply.accept(next);
    current = next;
    sha256 = digest;
    version++;
    loadedAt = clock.instant();
    count(Result.APPLIED);
    String message = "Configuration version " + version + " (sha256 " + digest.substring(0, 12) + ") applied from "
        + file + " because " + trigger + ": " + changes;
    LOG.info(message);
    return new Outcome(Result.APPLIED, message);
  }

  private Outcome refuse(ConfigException e, String trigger) {
    count(Result.INVALID);
    lastErrorAt = clock.instant();
    lastError = e.getMessage();
    LOG.warning("Drawbridge kept its running configuration (version " + version + ") when " + trigger + ": "
        + e.getMessage());
    return new Outcome(Result.INVALID, e.getMessage());
  }

  private void count(Result result) {
    counts.merge(result, 1L, Long::sum);
  }

  public synchronized Status status() {
    return new Status(file == null ? null : file.toString(), version, sha256, loadedAt, new EnumMap<>(counts),
        lastErrorAt, lastError);
  }

  /** The file whose changes count, or null. */
  public Path file() {
    return file;
  }

  private static byte[] read(Path file) throws ConfigException {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read the configuration file (" + e + ")");
    }
  }

  private static ProxySettings parse(Path file, byte[] bytes) throws ConfigException {
    return ConfigLoader.parse(new String(bytes, StandardCharsets.UTF_8), file.toString());
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
