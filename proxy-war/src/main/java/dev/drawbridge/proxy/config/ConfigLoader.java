package dev.drawbridge.proxy.config;

import jakarta.json.JsonValue;
import jakarta.json.bind.Jsonb;
import jakarta.json.bind.JsonbBuilder;
import jakarta.json.bind.JsonbConfig;
import jakarta.json.bind.JsonbException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Finds, reads and validates the proxy's configuration file. */
public final class ConfigLoader {

  /** Context parameter and system property naming the configuration file. */
  public static final String CONFIG_PROPERTY = "drawbridge.config";

  /** Environment variable naming the configuration file. */
  public static final String CONFIG_ENV = "DRAWBRIDGE_CONFIG";

  /** Name of the backend a first run creates. */
  public static final String DEFAULT_BACKEND = "default";

  private static final Pattern BACKEND_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

  private ConfigLoader() {}

  /**
   * The configured file location: the context parameter wins over the system property, which wins
   * over the environment variable. Null when none is set.
   */
  public static Path locate(String contextParameter) {
    for (String candidate :
        new String[] {
          contextParameter, System.getProperty(CONFIG_PROPERTY), System.getenv(CONFIG_ENV)
        }) {
      if (candidate != null && !candidate.isBlank()) {
        return Path.of(candidate.trim());
      }
    }
    return null;
  }

  /** Reads and validates {@code file}. */
  public static ProxySettings load(Path file) throws ConfigException {
    String json;
    try {
      json = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read the configuration file (" + e + ")");
    }
    return parse(json, file.toString());
  }

  /** Validates configuration text; {@code source} names it in error messages. */
  public static ProxySettings parse(String json, String source) throws ConfigException {
    ConfigFile config;
    JsonbConfig strict = new JsonbConfig().setProperty("jsonb.fail-on-unknown-properties", true);
    try (Jsonb jsonb = JsonbBuilder.create(strict)) {
      config = jsonb.fromJson(json, ConfigFile.class);
    } catch (JsonbException e) {
      throw new ConfigException(source + ": not a valid configuration: " + firstLine(e));
    } catch (Exception e) {
      throw new ConfigException(source + ": cannot parse the configuration: " + e);
    }
    if (config == null) {
      throw new ConfigException(source + ": the configuration must be a JSON object");
    }
    return validate(config, source);
  }

  /** Settings of a first run without a file: one backend accepting the token with this digest. */
  public static ProxySettings firstRun(byte[] tokenSha256) {
    ConfigFile config = new ConfigFile();
    ConfigFile.BackendEntry backend = new ConfigFile.BackendEntry();
    backend.id = DEFAULT_BACKEND;
    backend.agentTokenSha256.add(HexFormat.of().formatHex(tokenSha256));
    config.backends.add(backend);
    try {
      return validate(config, "built-in defaults");
    } catch (ConfigException e) {
      throw new IllegalStateException("built-in defaults are invalid", e);
    }
  }

  static ProxySettings validate(ConfigFile config, String source) throws ConfigException {
    Check check = new Check(source);
    check.that(config.backends != null && !config.backends.isEmpty(), "backends", "list at least one backend");
    Map<String, BackendSettings> backends = new LinkedHashMap<>();
    for (int i = 0; i < config.backends.size(); i++) {
      BackendSettings backend = validate(config.backends.get(i), "backends[" + i + "]", check);
      check.that(!backends.containsKey(backend.id()), "backends[" + i + "].id", "'" + backend.id() + "' is used twice");
      backends.put(backend.id(), backend);
    }
    check.positive(config.pollWaitSeconds, "pollWaitSeconds");
    check.positive(config.agentGraceSeconds, "agentGraceSeconds");
    check.that(config.maxRequestBodyBytes >= 0, "maxRequestBodyBytes", "must be 0 or more");
    check.that(
        config.inlineBodyMaxBytes >= 0 && config.inlineBodyMaxBytes <= 1024 * 1024,
        "inlineBodyMaxBytes",
        "must be between 0 and 1048576");
    check.positive(config.retryAfterSeconds, "retryAfterSeconds");
    check.positive(config.idleTimeoutSeconds, "idleTimeoutSeconds");
    check.positive(config.maxPollBatch, "maxPollBatch");
    check.positive(config.upgradeIdleTimeoutSeconds, "upgradeIdleTimeoutSeconds");
    check.positive(config.upgradeHandshakeTimeoutSeconds, "upgradeHandshakeTimeoutSeconds");
    check.positive(config.maxUpgradeHandshakes, "maxUpgradeHandshakes");
    check.positive(config.upgradeKeepaliveSeconds, "upgradeKeepaliveSeconds");
    check.that(config.drainGraceSeconds >= 0, "drainGraceSeconds", "must be 0 (cut at once) or more");
    check.that(config.drainDelaySeconds >= 0, "drainDelaySeconds", "must be 0 (stop taking work at once) or more");
    check.that(
        config.requeueOnAgentLoss == JsonValue.TRUE || config.requeueOnAgentLoss == JsonValue.FALSE,
        "requeueOnAgentLoss",
        "must be true or false");
    check.that(config.via != null && config.via.matches("[!-~]{1,64}"), "via", "must be 1 to 64 visible characters without spaces");
    check.that(
        config.viaToService == JsonValue.TRUE || config.viaToService == JsonValue.FALSE, "viaToService", "must be true or false");
    List<String> trusted = config.trustedProxies == null ? List.of() : List.copyOf(config.trustedProxies);
    for (int i = 0; i < trusted.size(); i++) {
      check.that(isIpLiteral(trusted.get(i)), "trustedProxies[" + i + "]", "must be an IPv4 or IPv6 address");
    }
    return new ProxySettings(
        java.util.Collections.unmodifiableMap(backends),
        Duration.ofSeconds(config.pollWaitSeconds),
        Duration.ofSeconds(config.agentGraceSeconds),
        config.maxRequestBodyBytes,
        config.inlineBodyMaxBytes,
        config.retryAfterSeconds,
        Duration.ofSeconds(config.idleTimeoutSeconds),
        trusted,
        config.via,
        config.viaToService == JsonValue.TRUE,
        config.maxPollBatch,
        config.requeueOnAgentLoss == JsonValue.TRUE,
        RouteLoader.validate(config.routes, backends.keySet(), source),
        Duration.ofSeconds(config.drainGraceSeconds),
        Duration.ofSeconds(config.drainDelaySeconds),
        new UpgradeSettings(
            Duration.ofSeconds(config.upgradeIdleTimeoutSeconds),
            Duration.ofSeconds(config.upgradeHandshakeTimeoutSeconds),
            config.maxUpgradeHandshakes,
            Duration.ofSeconds(config.upgradeKeepaliveSeconds)));
  }

  private static BackendSettings validate(ConfigFile.BackendEntry entry, String key, Check check)
      throws ConfigException {
    check.that(entry != null, key, "must be an object");
    check.that(entry.id != null && BACKEND_ID.matcher(entry.id).matches(), key + ".id", "must be 1 to 64 letters, digits, '.', '_' or '-'");
    check.that(entry.agentTokenSha256 != null && !entry.agentTokenSha256.isEmpty(), key + ".agentTokenSha256", "list at least one token digest");
    List<byte[]> digests = new ArrayList<>();
    for (int i = 0; i < entry.agentTokenSha256.size(); i++) {
      String hex = entry.agentTokenSha256.get(i);
      check.that(hex != null && SHA256_HEX.matcher(hex).matches(), key + ".agentTokenSha256[" + i + "]", "must be 64 lowercase hexadecimal characters (java -jar drawbridge-agent.jar new-token prints a token and its digest)");
      digests.add(HexFormat.of().parseHex(hex));
    }
    check.positive(entry.maxQueued, key + ".maxQueued");
    check.positive(entry.queueTimeoutSeconds, key + ".queueTimeoutSeconds");
    check.positive(entry.responseTimeoutSeconds, key + ".responseTimeoutSeconds");
    check.that(entry.maxInFlight >= 0, key + ".maxInFlight", "must be 0 (no limit) or more");
    check.that(entry.maxUpgraded >= 0, key + ".maxUpgraded", "must be 0 (no limit) or more");
    return new BackendSettings(
        entry.id,
        List.copyOf(digests),
        entry.maxQueued,
        Duration.ofSeconds(entry.queueTimeoutSeconds),
        Duration.ofSeconds(entry.responseTimeoutSeconds),
        entry.maxInFlight,
        entry.upgrades,
        entry.maxUpgraded);
  }

  static boolean isIpLiteral(String text) {
    return dev.drawbridge.proxy.http.ClientAddress.isIpLiteral(text);
  }

  private static String firstLine(Exception e) {
    Throwable cause = e;
    while (cause.getCause() != null && cause.getCause().getMessage() != null) {
      cause = cause.getCause();
    }
    String message = String.valueOf(cause.getMessage());
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  /** Collects the first violation as a {@link ConfigException} naming source and key. */
  private static final class Check {
    private final String source;

    Check(String source) {
      this.source = source;
    }

    void that(boolean condition, String key, String reason) throws ConfigException {
      if (!condition) {
        throw new ConfigException(source + ": key '" + key + "': " + reason);
      }
    }

    void positive(long value, String key) throws ConfigException {
      that(value > 0, key, "must be greater than 0");
    }
  }
}
