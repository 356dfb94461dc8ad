package dev.drawbridge.agent;

import dev.drawbridge.protocol.HeaderValidation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * The token the agent sends with each call to the proxy. A token read from a file follows the
 * file: when an operator rotates tokens, writing the new one into the file moves the agent to it
 * without a restart. The file is looked at no more than once per {@link #RECHECK_NANOS}, by the
 * call that asks, so an idle agent costs nothing. The token is never logged.
 */
final class TokenSource {

  private static final Logger LOG = Logger.getLogger(TokenSource.class.getName());

  /** How often the file is looked at: a rotation is seen within a second, a busy agent stays cheap. */
  static final long RECHECK_NANOS = 1_000_000_000L;

  private final Path file;
  private final LongSupplier clock;
  private volatile String token;
  private Object seenVersion;
  private long nextCheckNanos;

  private TokenSource(String token, Path file, LongSupplier clock) {
    this.token = Objects.requireNonNull(token, "token");
    this.file = file;
    this.clock = clock;
    this.seenVersion = file == null ? null : version(file);
    this.nextCheckNanos = clock.getAsLong() + RECHECK_NANOS;
  }

  /** A token given on the command line or in a variable: it never changes. */
  static TokenSource fixed(String token) {
    return new TokenSource(token, null, System::nanoTime);
  }

  /** {@code token}, as read from {@code file} at startup, then whatever the file holds. */
  static TokenSource file(Path file, String token, LongSupplier clock) {
    return new TokenSource(token, file, clock);
  }

  /** The source of {@code config}'s token. */
  static TokenSource of(AgentConfig config) {
    return config.tokenFile() == null ? fixed(config.token()) : file(config.tokenFile(), config.token(), System::nanoTime);
  }

  /** The token to send now. */
  String current() {
    if (file != null) {
      recheck();
    }
    return token;
  }

  private synchronized void recheck() {
    long now = clock.getAsLong();
    if (now - nextCheckNanos < 0) {
      return;
    }
    nextCheckNanos = now + RECHECK_NANOS;
    Object version = version(file);
    if (version == null || version.equals(seenVersion)) {
      return;
    }
    seenVersion = version;
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      LOG.warning("Cannot read the changed token file " + file + " (" + e.getClass().getSimpleName()
          + "); the agent keeps its current token");
      return;
    }
    if (text.isEmpty() || !HeaderValidation.isValidValue(text)) {
      LOG.warning("The token file " + file + " changed but holds no usable token (empty, or characters not allowed"
          + " in an HTTP header); the agent keeps its current token");
      return;
    }
    if (!text.equals(token)) {
      token = text;
      LOG.info("The token file " + file + " changed; the agent uses the new token from its next call");
    }
  }

  /** What changes when the file is written or replaced: its time, size and identity. Null when unreadable. */
  private static Object version(Path file) {
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      return java.util.List.of(attributes.lastModifiedTime(), attributes.size(), String.valueOf(attributes.fileKey()));
    } catch (IOException e) {
      return null;
    }
  }
}
