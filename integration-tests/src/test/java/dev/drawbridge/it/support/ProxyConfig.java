package dev.drawbridge.it.support;

import dev.drawbridge.protocol.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the proxy's JSON config file for a test. Only keys a test sets are written, so every
 * other key keeps the proxy's own default and the tests also cover those defaults.
 */
public final class ProxyConfig {

  private final Map<String, Object> settings = new LinkedHashMap<>();
  private final List<Map<String, Object>> backends = new ArrayList<>();

  /** A config with one backend that accepts the agent token whose hash is given. */
  public static ProxyConfig singleBackend(String backendId, String tokenSha256) {
    return new ProxyConfig().backend(backendId, tokenSha256);
  }

  /** Adds a backend; further keys of it can be set with {@link #backendSetting}. */
  public ProxyConfig backend(String backendId, String... tokenSha256) {
    Map<String, Object> backend = new LinkedHashMap<>();
    backend.put("id", backendId);
    backend.put("agentTokenSha256", List.of(tokenSha256));
    backends.add(backend);
    return this;
  }

  /** Sets a key of the last added backend, e.g. {@code backendSetting("maxQueued", 2)}. */
  public ProxyConfig backendSetting(String key, Object value) {
    if (backends.isEmpty()) {
      throw new IllegalStateException("add a backend before setting " + key);
    }
    backends.get(backends.size() - 1).put(key, value);
    return this;
  }

  /** The first token digest of the first backend, to grant the same agent token another backend. */
  public String firstTokenSha256() {
    return (String) ((List<?>) backends.get(0).get("agentTokenSha256")).get(0);
  }

  /** Sets a top-level key, e.g. {@code set("pollWaitSeconds", 2)}. */
  public ProxyConfig set(String key, Object value) {
    settings.put(key, value);
    return this;
  }

  public String toJson() {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("backends", backends);
    root.putAll(settings);
    return Json.toJson(root);
  }

  /** Writes the config as {@code drawbridge.json} in {@code directory} and returns its path. */
  public Path writeTo(Path directory) {
    return write(directory.resolve("drawbridge.json"), toJson());
  }

  static Path write(Path file, String json) {
    try {
      Files.createDirectories(file.getParent());
      return Files.writeString(file, json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
