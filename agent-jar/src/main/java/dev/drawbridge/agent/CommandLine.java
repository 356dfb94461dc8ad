package dev.drawbridge.agent;

import dev.drawbridge.protocol.HeaderValidation;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;

/** Turns arguments and environment variables into a {@link Command}, or a one-line {@link UsageException}. */
final class CommandLine {

  /** The command that prints a fresh agent token and its digest. */
  static final String NEW_TOKEN = "new-token";

  private final FlagSources values;

  /** The environment, for the https_proxy convention. */
  private final Map<String, String> env;

  private CommandLine(FlagSources values, Map<String, String> env) {
    this.values = values;
    this.env = env;
  }

  /** Parses {@code args}, falling back to {@code env} for flags not given. */
  static Command parse(String[] args, Map<String, String> env) throws UsageException {
    if (args.length > 0 && args[0].equals(NEW_TOKEN)) {
      if (args.length > 1) {
        throw new UsageException(NEW_TOKEN + " takes no arguments, got '" + args[1] + "'");
      }
      return new Command.NewToken();
    }
    for (String arg : args) {
      if (arg.equals("--help") || arg.equals("-h")) {
        return new Command.Help();
      }
      if (arg.equals("--version") || arg.equals("-V")) {
        return new Command.Version();
      }
    }
    CommandLine line = new CommandLine(FlagSources.read(args, env), env);
    return new Command.Run(line.configs(), line.logLevel());
  }

  /** The agent's token and the file it came from (null when given directly). */
  private record Token(String text, Path file) {}

  /** Separates a route's own token file from its URL: {@code wiki=http://10.0.0.5:8080,token-file=/etc/wiki.token}. */
  static final String ROUTE_TOKEN_FILE = ",token-file=";

  /** One config per served backend: the --route list, else --backend with --target. */
  private List<AgentConfig> configs() throws UsageException {
    if (values.routes().isEmpty()) {
      return List.of(config(url(Flag.TARGET), token()));
    }
    for (Flag single : new Flag[] {Flag.TARGET, Flag.BACKEND}) {
      if (values.has(single)) {
        throw new UsageException("give either " + Flag.ROUTE.flag() + " or " + source(single) + ", not both");
      }
    }
    List<AgentConfig> configs = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (FlagSources.Value route : values.routes()) {
      int equals = route.text().indexOf('=');
      String backend = equals < 0 ? "" : route.text().substring(0, equals).trim();
      if (backend.isEmpty() || !HeaderValidation.isValidValue(backend) || backend.contains(" ")) {
        throw new UsageException(route.source() + ": '" + route.text() + "' must be ID=URL, e.g. wiki=http://10.0.0.5:8080");
      }
      if (!seen.add(backend)) {
        throw new UsageException(route.source() + ": backend '" + backend + "' is given more than once");
      }
      String rest = route.text().substring(equals + 1);
      int tokenAt = rest.indexOf(ROUTE_TOKEN_FILE);
      Token token = tokenAt < 0
          ? null
          : tokenFile(route.source() + " (" + backend + ")", rest.substring(tokenAt + ROUTE_TOKEN_FILE.length()));
      URI target = url(route.source(), tokenAt < 0 ? rest : rest.substring(0, tokenAt));
      if (token == null) {
        token = token();
      }
      AgentConfig base = configs.isEmpty() ? config(target, token) : configs.get(0);
      configs.add(base.forRoute(backend, target, token.text(), token.file()));
    }
    return configs;
  }

  private AgentConfig config(URI target, Token token) throws UsageException {
    List<URI> proxies = proxies();
    URI proxy = proxies.get(0);
    String backend = text(Flag.BACKEND, "default");
    if (backend.isBlank()) {
      throw new UsageException(source(Flag.BACKEND) + " must not be empty");
    }
    String agentId = text(Flag.AGENT_ID, null);
    if (agentId == null) {
      agentId = defaultAgentId();
    } else if (agentId.isBlank() || !HeaderValidation.isValidValue(agentId)) {
      throw new UsageException(source(Flag.AGENT_ID) + " must be non-empty printable text");
    }
    return new AgentConfig(
        proxies,
        target,
        backend.trim(),
        token.text(),
        agentId.trim(),
        integer(Flag.CONCURRENCY, 64, 1, 100_000),
        integer(Flag.POLLS, 2, 1, 1_000),
        duration(Flag.CONNECT_TIMEOUT, "10s", false),
        duration(Flag.BACKEND_TIMEOUT, "60s", false),
        duration(Flag.PROXY_TIMEOUT, "60s", false),
        preserveHost(),
        duration(Flag.DRAIN_TIMEOUT, "30s", true),
        duration(Flag.MAX_BACKOFF, "30s", false),
        healthPath(),
        duration(Flag.HEALTH_INTERVAL, "5s", false),
        new ProxyTransport(trustStore(), text(Flag.TRUST_STORE_PASSWORD, null), EgressProxy.choose(
            proxy, text(Flag.EGRESS_PROXY, null), source(Flag.EGRESS_PROXY), env),
            duration(Flag.RESOLVE_INTERVAL, "30s", false), bool(Flag.STREAMED_POLLS, "true"),
            bool(Flag.STREAMED_RESPONSES, "true"), duration(Flag.KEEPALIVE_INTERVAL, "5s", true)),
        token.file());
  }

  /** The --proxy URLs, each checked; one egress choice (the first URL's) serves them all. */
  private List<URI> proxies() throws UsageException {
    String text = text(Flag.PROXY, null);
    if (text == null) {
      throw new UsageException(Flag.PROXY.flag() + " is required (or set " + Flag.PROXY.env() + ")");
    }
    List<URI> proxies = new ArrayList<>();
    for (String part : text.split(",", -1)) {
      if (part.isBlank()) {
        throw new UsageException(source(Flag.PROXY) + ": '" + text + "' has an empty entry; separate URLs with single commas");
      }
      URI proxy = url(source(Flag.PROXY), part);
      refuseInsecureProxy(proxy);
      if (proxies.contains(proxy)) {
        throw new UsageException(source(Flag.PROXY) + ": '" + proxy + "' is given more than once");
      }
      proxies.add(proxy);
    }
    return proxies;
  }

  /**
   * Whether the backend gets the client's Host. Preserving is the default because a backend that
   * builds absolute URLs from Host (redirects, links, download URLs) then builds public ones.
   */
  private boolean preserveHost() throws UsageException {
    String text = text(Flag.HOST_HEADER, "preserve").trim().toLowerCase(Locale.ROOT);
    switch (text) {
      case "preserve":
        return true;
      case "rewrite":
        return false;
      default:
        throw new UsageException(source(Flag.HOST_HEADER) + ": '" + text(Flag.HOST_HEADER, "")
            + "' is not preserve or rewrite");
    }
  }

  /** The health check path, or null when none is set ("none" also disables it). */
  private String healthPath() throws UsageException {
    String text = text(Flag.HEALTH_PATH, null);
    if (text == null || text.trim().equalsIgnoreCase("none")) {
      return null;
    }
    String path = text.trim();
    boolean valid;
    try {
      URI parsed = new URI(path);
      valid = path.startsWith("/") && !path.startsWith("//") && parsed.getRawFragment() == null;
    } catch (URISyntaxException e) {
      valid = false;
    }
    if (!valid) {
      throw new UsageException(source(Flag.HEALTH_PATH) + ": '" + text + "' must be a path starting with '/', e.g. /health");
    }
    return path;
  }

  /**
   * A token sent in clear over the network can be replayed by anyone on the path, so plain HTTP is
   * only accepted to loopback (tests, a TLS-terminating sidecar) unless explicitly allowed.
   */
  private void refuseInsecureProxy(URI proxy) throws UsageException {
    if (proxy.getScheme().equals("http") && !Loopback.isLoopback(proxy.getHost()) && !bool(Flag.ALLOW_INSECURE_HTTP)) {
      throw new UsageException(source(Flag.PROXY) + ": '" + proxy + "' is plain HTTP to a host that is not loopback, so the"
          + " agent token would cross the network unencrypted; use https:// or add " + Flag.ALLOW_INSECURE_HTTP.flag());
    }
  }

  private Path trustStore() throws UsageException {
    String file = text(Flag.TRUST_STORE, null);
    if (file == null) {
      if (values.has(Flag.TRUST_STORE_PASSWORD)) {
        throw new UsageException(source(Flag.TRUST_STORE_PASSWORD) + " needs " + Flag.TRUST_STORE.flag());
      }
      return null;
    }
    Path path;
    try {
      path = Path.of(file.trim());
    } catch (InvalidPathException e) {
      throw new UsageException(source(Flag.TRUST_STORE) + ": '" + file + "' is not a valid file name");
    }
    if (!Files.isReadable(path)) {
      throw new UsageException(source(Flag.TRUST_STORE) + ": cannot read trust store '" + file + "'");
    }
    return path;
  }

  private String source(Flag flag) {
    FlagSources.Value value = values.get(flag);
    return value == null ? flag.flag() : value.source();
  }

  private String text(Flag flag, String fallback) {
    FlagSources.Value value = values.get(flag);
    return value == null ? fallback : value.text();
  }

  private URI url(Flag flag) throws UsageException {
    String text = text(flag, null);
    if (text == null) {
      throw new UsageException(flag.flag() + " is required (or set " + flag.env() + ")");
    }
    return url(source(flag), text);
  }

  private static URI url(String where, String text) throws UsageException {
    URI uri;
    try {
      uri = new URI(text.trim());
    } catch (URISyntaxException e) {
      throw new UsageException(where + ": '" + text + "' is not a valid URL");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new UsageException(where + ": '" + text + "' must start with http:// or https://");
    }
    if (uri.getHost() == null) {
      throw new UsageException(where + ": '" + text + "' has no host name");
    }
    if (uri.getRawUserInfo() != null) {
      throw new UsageException(where + ": '" + uri.getHost() + "' URL must not carry user credentials");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new UsageException(where + ": '" + text + "' must not have a query or fragment");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    try {
      return new URI(scheme + "://" + uri.getRawAuthority() + path);
    } catch (URISyntaxException e) {
      throw new UsageException(where + ": '" + text + "' is not a valid URL");
    }
  }

  private Token token() throws UsageException {
    FlagSources.Value token = values.get(Flag.TOKEN);
    FlagSources.Value file = values.get(Flag.TOKEN_FILE);
    if (token != null && file != null) {
      throw new UsageException(
          "give only one of " + token.source() + " and " + file.source());
    }
    if (token == null && file == null) {
      throw new UsageException("--token or --token-file is required (or set "
          + Flag.TOKEN.env() + " or " + Flag.TOKEN_FILE.env()
          + (values.routes().isEmpty() ? ")" : ", or give each --route its own token-file)"));
    }
    if (token == null) {
      return tokenFile(file.source(), file.text());
    }
    return new Token(checkedToken(token.source(), token.text().trim()), null);
  }

  /** The token held in {@code file}, which the agent then follows for changes. */
  private static Token tokenFile(String where, String file) throws UsageException {
    String text = readTokenFile(where, file).trim();
    return new Token(checkedToken(where, text), Path.of(file.trim()).toAbsolutePath());
  }

  private static String checkedToken(String where, String text) throws UsageException {
    if (text.isEmpty()) {
      throw new UsageException(where + ": the token is empty");
    }
    if (!HeaderValidation.isValidValue(text)) {
      throw new UsageException(where + ": the token contains characters not allowed in an HTTP header");
    }
    return text;
  }

  private static String readTokenFile(String where, String file) throws UsageException {
    try {
      return Files.readString(Path.of(file), StandardCharsets.UTF_8);
    } catch (IOException | InvalidPathException e) {
      throw new UsageException(where + ": cannot read token file '" + file + "' ("
          + e.getClass().getSimpleName() + ")");
    }
  }

  private int integer(Flag flag, int fallback, int min, int max) throws UsageException {
    String text = text(flag, null);
    if (text == null) {
      return fallback;
    }
    int value;
    try {
      value = Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      throw new UsageException(source(flag) + ": '" + text + "' is not a whole number");
    }
    if (value < min || value > max) {
      throw new UsageException(source(flag) + ": " + value + " is outside " + min + ".." + max);
    }
    return value;
  }

  private Duration duration(Flag flag, String fallback, boolean zeroAllowed) throws UsageException {
    String text = text(flag, fallback);
    Duration value;
    try {
      value = Durations.parse(text);
    } catch (IllegalArgumentException e) {
      throw new UsageException(source(flag) + ": " + e.getMessage());
    }
    if (value.isZero() && !zeroAllowed) {
      throw new UsageException(source(flag) + ": must be more than zero");
    }
    return value;
  }

  private boolean bool(Flag flag) throws UsageException {
    return bool(flag, "false");
  }

  private boolean bool(Flag flag, String fallback) throws UsageException {
    String text = text(flag, fallback);
    Boolean value = FlagSources.parseBoolean(text);
    if (value == null) {
      throw new UsageException(source(flag) + ": '" + text + "' is not true or false");
    }
    return value;
  }

  private Level logLevel() throws UsageException {
    String text = text(Flag.LOG_LEVEL, "info");
    switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "error":
        return Level.SEVERE;
      case "warn":
      case "warning":
        return Level.WARNING;
      case "info":
        return Level.INFO;
      case "debug":
        return Level.FINE;
      case "trace":
        return Level.FINEST;
      default:
        throw new UsageException(
            source(Flag.LOG_LEVEL) + ": '" + text + "' is not one of error, warn, info, debug");
    }
  }

  /** {@code <hostname>-<6 random hex digits>}: readable, and unique when several agents share a host. */
  static String defaultAgentId() {
    byte[] random = new byte[3];
    new SecureRandom().nextBytes(random);
    return hostName() + "-" + HexFormat.of().formatHex(random);
  }

  private static String hostName() {
    String name = System.getenv("HOSTNAME");
    if (name == null || name.isBlank()) {
      try {
        name = InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        name = "agent";
      }
    }
    String safe = name.replaceAll("[^A-Za-z0-9._-]", "");
    return safe.isEmpty() ? "agent" : safe;
  }
}
