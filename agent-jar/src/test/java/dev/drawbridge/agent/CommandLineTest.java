package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CommandLineTest {

  private static final String REQUIRED = "--proxy https://proxy:8080/drawbridge --target http://backend:9000 --token t0k";

  private static Command.Run run(String args, Map<String, String> env) throws UsageException {
    return (Command.Run) CommandLine.parse(args.isBlank() ? new String[0] : args.trim().split(" +"), env);
  }

  private static AgentConfig config(String args) throws UsageException {
    return run(args, Map.of()).config();
  }

  @Test
  void defaults() throws Exception {
    Command.Run command = run(REQUIRED, Map.of());
    AgentConfig config = command.config();
    assertEquals("https://proxy:8080/drawbridge", config.proxy().toString());
    assertEquals("http://backend:9000", config.target().toString());
    assertEquals("", config.targetBasePath());
    assertEquals("default", config.backend());
    assertEquals("t0k", config.token());
    assertTrue(config.agentId().matches("[A-Za-z0-9._-]+-[0-9a-f]{6}"), config.agentId());
    assertEquals(64, config.concurrency());
    assertEquals(2, config.polls());
    assertEquals(Duration.ofSeconds(10), config.connectTimeout());
    assertEquals(Duration.ofSeconds(60), config.backendTimeout());
    assertEquals(Duration.ofSeconds(60), config.proxyTimeout());
    assertTrue(config.preserveHost(), "the client's Host by default, as tunnels do");
    assertEquals(Duration.ofSeconds(30), config.drainTimeout());
    assertEquals(Duration.ofSeconds(30), config.maxBackoff());
    assertEquals(null, config.healthPath(), "no health check unless asked");
    assertEquals(Duration.ofSeconds(5), config.healthInterval());
    assertEquals(Level.INFO, command.logLevel());
    assertFalse(config.toString().contains("t0k"), "toString must not leak the token");
  }

  @Test
  void everyFlag() throws Exception {
    Command.Run command = run("--proxy=https://edge.example.com/db/ --target http://10.0.0.5:8080/app/ --backend wiki"
        + " --token-file " + tokenFile + " --agent-id rack-7 --concurrency 8 --polls 3 --connect-timeout 500ms"
        + " --backend-timeout 2m --proxy-timeout 45 --host-header rewrite --drain-timeout 0 --max-backoff 1m --log-level debug"
        + " --health-path /status?deep=1 --health-interval 750ms",
        Map.of());
    AgentConfig config = command.config();
    assertEquals("https://edge.example.com/db", config.proxy().toString(), "trailing slash dropped");
    assertEquals("/app", config.targetBasePath());
    assertEquals("wiki", config.backend());
    assertEquals("from-file", config.token(), "token file content is trimmed");
    assertEquals("rack-7", config.agentId());
    assertEquals(8, config.concurrency());
    assertEquals(3, config.polls());
    assertEquals(Duration.ofMillis(500), config.connectTimeout());
    assertEquals(Duration.ofMinutes(2), config.backendTimeout());
    assertEquals(Duration.ofSeconds(45), config.proxyTimeout());
    assertFalse(config.preserveHost());
    assertEquals(Duration.ZERO, config.drainTimeout());
    assertEquals(Duration.ofMinutes(1), config.maxBackoff());
    assertEquals("/status?deep=1", config.healthPath());
    assertEquals(Duration.ofMillis(750), config.healthInterval());
    assertEquals(Level.FINE, command.logLevel());
  }

  @TempDir static Path dir;
  @Test
  void severalProxyUrlsAreSeveralNodesSharingOneConfig() throws UsageException {
    AgentConfig config = config("--proxy https://edge-1.example.com/db/,https://edge-2.example.com:8443/db"
        + " --target http://t --token x --resolve-interval 2m");
    assertEquals(List.of(URI.create("https://edge-1.example.com/db"), URI.create("https://edge-2.example.com:8443/db")),
        config.proxies());
    assertEquals("https://edge-1.example.com/db", config.proxy().toString(), "the first names the proxy in messages");
    assertEquals(Duration.ofMinutes(2), config.transport().resolveInterval());
    assertEquals(Duration.ofSeconds(30), config("--proxy https://p --target http://t --token x").transport().resolveInterval());
    assertEquals(Duration.ofSeconds(5), config("--proxy https://p --target http://t --token x").transport().keepaliveInterval());
    assertEquals(Duration.ofMillis(1500),
        config("--proxy https://p --target http://t --token x --keepalive-interval 1500ms").transport().keepaliveInterval());
    assertEquals(Duration.ZERO,
        config("--proxy https://p --target http://t --token x --keepalive-interval 0").transport().keepaliveInterval(),
        "0 sends none");
    assertEquals(List.of(URI.create("https://a"), URI.create("https://b")),
        run("--token x", Map.of("DRAWBRIDGE_PROXY", "https://a, https://b", "DRAWBRIDGE_TARGET", "http://t"))
            .config().proxies(),
        "the variable takes the same list");
  }

  @Test
  void plainHttpIsAcceptedToLoopbackOrWhenAllowed() throws UsageException {
    for (String proxy : List.of("http://127.0.0.1:8080/d", "http://localhost/d", "http://[::1]:9/d", "http://127.9.9.9")) {
      assertEquals(proxy, config("--proxy " + proxy + " --target http://t --token x").proxy().toString());
    }
    assertEquals("http://edge.example.com",
        config("--proxy http://edge.example.com --target http://t --token x --allow-insecure-http").proxy().toString());
  }

  @Test
  void routesGiveOneConfigPerBackendSharingEverythingElse() throws UsageException {
    Command.Run command = run("--proxy https://p --token x --concurrency 3 --route wiki=http://10.0.0.5:8080/"
        + " --route api=https://10.0.0.6/v2", Map.of());
    assertEquals(2, command.configs().size());
    assertEquals("wiki", command.configs().get(0).backend());
    assertEquals("http://10.0.0.5:8080", command.configs().get(0).target().toString());
    assertEquals("api", command.configs().get(1).backend());
    assertEquals("https://10.0.0.6/v2", command.configs().get(1).target().toString());
    assertEquals(3, command.configs().get(1).concurrency());
    assertEquals("x", command.configs().get(1).token());
    Command.Run fromEnv = run("--proxy https://p --token x", Map.of("DRAWBRIDGE_ROUTE", "a=http://a  b=http://b"));
    assertEquals(List.of("a", "b"), fromEnv.configs().stream().map(AgentConfig::backend).toList());
  }

  @Test
  void eachRouteMayHaveItsOwnTokenFile() throws Exception {
    Path wikiToken = Files.writeString(dir.resolve("wiki.token"), "wiki-token\n");
    Path apiToken = Files.writeString(dir.resolve("api.token"), "api-token");
    Command.Run command = run("--proxy https://p --route wiki=http://10.0.0.5:8080,token-file=" + wikiToken
        + " --route api=https://10.0.0.6/v2,token-file=" + apiToken, Map.of());
    AgentConfig wiki = command.configs().get(0);
    AgentConfig api = command.configs().get(1);
    assertEquals(List.of("wiki-token", "api-token"), List.of(wiki.token(), api.token()));
    assertEquals(List.of(wikiToken.toAbsolutePath(), apiToken.toAbsolutePath()), List.of(wiki.tokenFile(), api.tokenFile()));
    assertEquals("http://10.0.0.5:8080", wiki.target().toString());
    Command.Run mixed = run("--proxy https://p --token shared --route wiki=http://w,token-file=" + wikiToken
        + " --route api=http://a", Map.of());
    assertEquals(List.of("wiki-token", "shared"), mixed.configs().stream().map(AgentConfig::token).toList());
    assertEquals(null, mixed.configs().get(1).tokenFile(), "a token given directly is not followed");
    UsageException missing = assertThrows(UsageException.class,
        () -> run("--proxy https://p --route wiki=http://w,token-file=" + dir.resolve("none.token"), Map.of()));
    assertTrue(missing.getMessage().startsWith("--route (wiki): cannot read token file"), missing.getMessage());
  }

  @Test
  void egressProxyFromFlagOrTheConventionalVariables() throws UsageException {
    assertEquals(URI.create("http://squid:3128"),
        config(REQUIRED + " --egress-proxy http://squid:3128").transport().egressProxy());
    assertEquals(URI.create("http://squid:80"),
        run(REQUIRED, Map.of("HTTPS_PROXY", "squid")).config().transport().egressProxy());
    assertEquals(null,
        run(REQUIRED, Map.of("https_proxy", "http://squid:3128", "no_proxy", "localhost,.example.com,proxy")).config()
            .transport().egressProxy());
    assertEquals(null,
        run(REQUIRED + " --egress-proxy none", Map.of("https_proxy", "http://squid:3128")).config().transport().egressProxy());
    assertEquals(null, run("--proxy http://127.0.0.1 --target http://t --token x", Map.of("https_proxy", "http://s:1"))
        .config().transport().egressProxy(), "https_proxy is for https:// URLs");
  }

  @Test
  void trustStorePasswordIsNeverPrinted() throws Exception {
    Path store = Files.writeString(dir.resolve("t.p12"), "not really a store");
    AgentConfig config = config(REQUIRED + " --trust-store " + store + " --trust-store-password hunter2");
    assertEquals("hunter2", config.transport().trustStorePassword());
    assertFalse(config.toString().contains("hunter2"));
  }

  static Path tokenFile;

  @org.junit.jupiter.api.BeforeAll
  static void writeTokenFiles() throws Exception {
    tokenFile = Files.writeString(dir.resolve("agent.token"), "  from-file\n", StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("empty.token"), " \n", StandardCharsets.UTF_8);
  }

  @Test
  void everyFlagFromTheEnvironment() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("DRAWBRIDGE_PROXY", "https://p");
    env.put("DRAWBRIDGE_TARGET", "http://t");
    env.put("DRAWBRIDGE_BACKEND", "b");
    env.put("DRAWBRIDGE_TOKEN_FILE", tokenFile.toString());
    env.put("DRAWBRIDGE_AGENT_ID", "env-agent");
    env.put("DRAWBRIDGE_CONCURRENCY", "5");
    env.put("DRAWBRIDGE_POLLS", "4");
    env.put("DRAWBRIDGE_CONNECT_TIMEOUT", "1s");
    env.put("DRAWBRIDGE_BACKEND_TIMEOUT", "2s");
    env.put("DRAWBRIDGE_PROXY_TIMEOUT", "3s");
    env.put("DRAWBRIDGE_HOST_HEADER", "Rewrite");
    env.put("DRAWBRIDGE_DRAIN_TIMEOUT", "4s");
    env.put("DRAWBRIDGE_MAX_BACKOFF", "5s");
    env.put("DRAWBRIDGE_LOG_LEVEL", "warn");
    env.put("DRAWBRIDGE_HEALTH_PATH", "/up");
    env.put("DRAWBRIDGE_HEALTH_INTERVAL", "6s");
    Command.Run command = run("", env);
    assertEquals("/up", command.config().healthPath());
    assertEquals(Duration.ofSeconds(6), command.config().healthInterval());
    AgentConfig config = command.config();
    assertEquals(List.of("https://p", "http://t", "b", "from-file", "env-agent"),
        List.of(config.proxy().toString(), config.target().toString(), config.backend(), config.token(), config.agentId()));
    assertEquals(List.of(5, 4), List.of(config.concurrency(), config.polls()));
    assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ofSeconds(4), Duration.ofSeconds(5)),
        List.of(config.connectTimeout(), config.backendTimeout(), config.proxyTimeout(), config.drainTimeout(), config.maxBackoff()));
    assertFalse(config.preserveHost());
    assertEquals(Level.WARNING, command.logLevel());
  }

  @Test
  void flagWinsOverEnvironment() throws Exception {
    Map<String, String> env = Map.of("DRAWBRIDGE_CONCURRENCY", "5", "DRAWBRIDGE_BACKEND", "from-env");
    AgentConfig config = run(REQUIRED + " --concurrency 7", env).config();
    assertEquals(7, config.concurrency());
    assertEquals("from-env", config.backend());
  }

  @Test
  void tokenFlagOverridesBothTokenVariables() throws Exception {
    Map<String, String> env = Map.of("DRAWBRIDGE_TOKEN_FILE", "/nonexistent", "DRAWBRIDGE_TOKEN", "env-token");
    assertEquals("t0k", run(REQUIRED, env).config().token());
    assertEquals("from-file", run("--proxy https://p --target http://t --token-file " + tokenFile, env).config().token());
  }

  @Test
  void emptyVariableCountsAsUnset() throws Exception {
    assertEquals(64, run(REQUIRED, Map.of("DRAWBRIDGE_CONCURRENCY", "")).config().concurrency());
  }

  @Test
  void pollsAreCappedByConcurrency() throws Exception {
    assertEquals(1, config(REQUIRED + " --concurrency 1").polls());
  }

  @Test
  void newTokenIsACommandOfItsOwn() throws Exception {
    assertEquals(new Command.NewToken(), CommandLine.parse(new String[] {"new-token"}, Map.of()));
    UsageException e = assertThrows(UsageException.class,
        () -> CommandLine.parse(new String[] {"new-token", "--proxy", "https://p"}, Map.of()));
    assertEquals("new-token takes no arguments, got '--proxy'", e.getMessage());
  }

  @Test
  void hostHeaderModes() throws Exception {
    assertTrue(config(REQUIRED + " --host-header preserve").preserveHost());
    assertFalse(config(REQUIRED + " --host-header=rewrite").preserveHost());
    assertFalse(config(REQUIRED + " --host-header REWRITE ").preserveHost());
  }

  @Test
  void helpAndVersionWinOverEverythingElse() throws Exception {
    assertInstanceOf(Command.Help.class, CommandLine.parse(new String[] {"--bogus", "--help"}, Map.of()));
    assertInstanceOf(Command.Help.class, CommandLine.parse(new String[] {"-h"}, Map.of()));
    assertInstanceOf(Command.Version.class, CommandLine.parse(new String[] {"--version"}, Map.of()));
  }

  static Stream<Arguments> errors() {
    return Stream.of(
        Arguments.of("--target http://t --token x", Map.of(), "--proxy is required (or set DRAWBRIDGE_PROXY)"),
        Arguments.of("--proxy https://p --token x", Map.of(), "--target is required (or set DRAWBRIDGE_TARGET)"),
        Arguments.of("--proxy https://p --target http://t", Map.of(),
            "--token or --token-file is required (or set DRAWBRIDGE_TOKEN or DRAWBRIDGE_TOKEN_FILE)"),
        Arguments.of(REQUIRED + " --token-file /x", Map.of(), "give only one of --token and --token-file"),
        Arguments.of("--proxy https://p --target http://t", Map.of("DRAWBRIDGE_TOKEN", "a", "DRAWBRIDGE_TOKEN_FILE", "/b"),
            "give only one of DRAWBRIDGE_TOKEN and DRAWBRIDGE_TOKEN_FILE"),
        Arguments.of("--proxy https://p --target http://t --token-file /nonexistent/agent.token", Map.of(),
            "--token-file: cannot read token file '/nonexistent/agent.token' (NoSuchFileException)"),
        Arguments.of("--proxy https://p --target http://t --token-file " + dir.resolve("empty.token"), Map.of(),
            "--token-file: the token is empty"),
        Arguments.of("--proxy https://p --target http://t --token x\u0001y", Map.of(),
            "--token: the token contains characters not allowed in an HTTP header"),
        Arguments.of(REQUIRED + " --bogus 1", Map.of(), "unknown flag --bogus"),
        Arguments.of(REQUIRED + " stray", Map.of(), "unexpected argument 'stray'"),
        Arguments.of(REQUIRED + " --backend", Map.of(), "--backend needs a value (ID)"),
        Arguments.of(REQUIRED + " --backend a --backend b", Map.of(), "--backend is given more than once"),
        Arguments.of("--proxy http://edge.example.com --target http://t --token x", Map.of(),
            "--proxy: 'http://edge.example.com' is plain HTTP to a host that is not loopback, so the agent token would"
                + " cross the network unencrypted; use https:// or add --allow-insecure-http"),
        Arguments.of(REQUIRED + " --route a=http://x", Map.of(), "give either --route or --target, not both"),
        Arguments.of("--proxy https://p --token x --route a=http://x --route a=http://y", Map.of(),
            "--route: backend 'a' is given more than once"),
        Arguments.of("--proxy https://p --token x --route http://x", Map.of(),
            "--route: 'http://x' must be ID=URL, e.g. wiki=http://10.0.0.5:8080"),
        Arguments.of(REQUIRED + " --trust-store /nonexistent.p12", Map.of(), "--trust-store: cannot read trust store '/nonexistent.p12'"),
        Arguments.of(REQUIRED + " --trust-store-password x", Map.of(), "--trust-store-password needs --trust-store"),
        Arguments.of(REQUIRED + " --egress-proxy http://u:p@squid:3128", Map.of(),
            "--egress-proxy: the egress proxy must be written http://host:port, without credentials"),
        Arguments.of(REQUIRED, Map.of("https_proxy", "socks5://s:1080"),
            "https_proxy: the egress proxy must be written http://host:port, without credentials"),
        Arguments.of(REQUIRED.replace("https://proxy:8080/drawbridge", "ftp://proxy"), Map.of(),
            "--proxy: 'ftp://proxy' must start with http:// or https://"),
        Arguments.of(REQUIRED.replace("https://proxy:8080/drawbridge", "proxy:8080"), Map.of(),
            "--proxy: 'proxy:8080' must start with http:// or https://"),
        Arguments.of(REQUIRED.replace("https://proxy:8080/drawbridge", "http://"), Map.of(),
            "--proxy: 'http://' is not a valid URL"),
        Arguments.of(REQUIRED.replace("https://proxy:8080/drawbridge", "http:///x"), Map.of(),
            "--proxy: 'http:///x' has no host name"),
        Arguments.of(REQUIRED.replace("https://proxy:8080/drawbridge", "http://u:p@proxy"), Map.of(),
            "--proxy: 'proxy' URL must not carry user credentials"),
        Arguments.of(REQUIRED.replace("http://backend:9000", "http://backend:9000/a?b=c"), Map.of(),
            "--target: 'http://backend:9000/a?b=c' must not have a query or fragment"),
        Arguments.of(REQUIRED.replace("http://backend:9000", "http://back_end"), Map.of(),
            "--target: 'http://back_end' has no host name"),
        Arguments.of(REQUIRED + " --backend=", Map.of(), "--backend must not be empty"),
        Arguments.of(REQUIRED + " --agent-id=", Map.of(), "--agent-id must be non-empty printable text"),
        Arguments.of(REQUIRED + " --concurrency many", Map.of(), "--concurrency: 'many' is not a whole number"),
        Arguments.of(REQUIRED + " --concurrency 0", Map.of(), "--concurrency: 0 is outside 1..100000"),
        Arguments.of(REQUIRED, Map.of("DRAWBRIDGE_POLLS", "-1"), "DRAWBRIDGE_POLLS: -1 is outside 1..1000"),
        Arguments.of(REQUIRED + " --connect-timeout 10x", Map.of(),
            "--connect-timeout: '10x' is not a duration (use e.g. 500ms, 10s, 2m or a number of seconds)"),
        Arguments.of(REQUIRED + " --backend-timeout 0", Map.of(), "--backend-timeout: must be more than zero"),
        Arguments.of(REQUIRED + " --proxy-timeout 0s", Map.of(), "--proxy-timeout: must be more than zero"),
        Arguments.of(REQUIRED + " --max-backoff 0ms", Map.of(), "--max-backoff: must be more than zero"),
        Arguments.of(REQUIRED + " --health-path health", Map.of(),
            "--health-path: 'health' must be a path starting with '/', e.g. /health"),
        Arguments.of(REQUIRED, Map.of("DRAWBRIDGE_HEALTH_PATH", "/a b"),
            "DRAWBRIDGE_HEALTH_PATH: '/a b' must be a path starting with '/', e.g. /health"),
        Arguments.of(REQUIRED + " --health-interval 0", Map.of(), "--health-interval: must be more than zero"),
        Arguments.of(REQUIRED, Map.of("DRAWBRIDGE_DRAIN_TIMEOUT", "soon"),
            "DRAWBRIDGE_DRAIN_TIMEOUT: 'soon' is not a duration (use e.g. 500ms, 10s, 2m or a number of seconds)"),
        Arguments.of(REQUIRED + " --host-header=keep", Map.of(), "--host-header: 'keep' is not preserve or rewrite"),
        Arguments.of(REQUIRED + " --preserve-host", Map.of(), "unknown flag --preserve-host"),
        Arguments.of(REQUIRED.replace("https://proxy:8080/drawbridge", "https://a/d,,https://b/d"), Map.of(),
            "--proxy: 'https://a/d,,https://b/d' has an empty entry; separate URLs with single commas"),
        Arguments.of(REQUIRED.replace("https://proxy:8080/drawbridge", "https://a/d,https://a/d/"), Map.of(),
            "--proxy: 'https://a/d' is given more than once"),
        Arguments.of(REQUIRED.replace("https://proxy:8080/drawbridge", "http://127.0.0.2/d,http://edge.example.com/d"),
            Map.of(), "--proxy: 'http://edge.example.com/d' is plain HTTP to a host that is not loopback, so the agent"
                + " token would cross the network unencrypted; use https:// or add --allow-insecure-http"),
        Arguments.of(REQUIRED + " --resolve-interval 0", Map.of(), "--resolve-interval: must be more than zero"),
        Arguments.of(REQUIRED + " --keepalive-interval -5s", Map.of(),
            "--keepalive-interval: '-5s' is not a duration (use e.g. 500ms, 10s, 2m or a number of seconds)"),
        Arguments.of(REQUIRED + " --log-level loud", Map.of(),
            "--log-level: 'loud' is not one of error, warn, info, debug"));
  }

  @ParameterizedTest(name = "{2}")
  @MethodSource("errors")
  void rejectsWithOneClearSentence(String args, Map<String, String> env, String message) {
    UsageException e = assertThrows(UsageException.class, () -> run(args, env));
    assertEquals(message, e.getMessage());
  }

  @Test
  void mainPrintsUsageErrorsOnStderrWithExitCode2() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.run(new String[] {"--bogus"}, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, status);
    assertEquals("", out.toString(StandardCharsets.UTF_8));
    assertEquals("drawbridge-agent: unknown flag --bogus" + System.lineSeparator()
        + "Run 'java -jar drawbridge-agent.jar --help' for usage." + System.lineSeparator(), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void helpListsEveryFlagWithDefaultAndVariableAndExitsZero() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int status = Main.run(new String[] {"--help"}, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
    assertEquals(0, status);
    String help = out.toString(StandardCharsets.UTF_8);
    for (Flag flag : Flag.values()) {
      assertTrue(help.contains(flag.flag() + " " + flag.placeholder()), flag.flag());
      assertTrue(help.contains(flag.env()), flag.env());
      if (flag.defaultText() != null) {
        assertTrue(help.contains("Default: " + flag.defaultText() + "."), flag.flag() + " default");
      }
    }
    assertTrue(help.contains("Exit codes: 0"));
    assertTrue(help.contains("Examples:"));
  }

  @Test
  void aConfigFileIsTheLowestLayer() throws Exception {
    Path file = Files.writeString(dir.resolve("agent.properties"), String.join("\n",
        "# keys are flag names without the dashes",
        "proxy = https://from-file:8443/drawbridge",
        "target = http://backend:9000",
        "token = file-token",
        "concurrency = 7",
        "polls = 3",
        "backend-timeout = 5s"));
    AgentConfig config =
        run("--config-file " + file + " --concurrency 9", Map.of("DRAWBRIDGE_POLLS", "4")).config();
    assertEquals("https://from-file:8443/drawbridge", config.proxy().toString());
    assertEquals("file-token", config.token());
    assertEquals(9, config.concurrency(), "a flag wins over the file");
    assertEquals(4, config.polls(), "a variable wins over the file");
    assertEquals(Duration.ofSeconds(5), config.backendTimeout());
    AgentConfig tokenFromFlag = run("--config-file " + file + " --token flag-token", Map.of()).config();
    assertEquals("flag-token", tokenFromFlag.token());
  }

  @Test
  void aConfigFileCanListRoutes() throws Exception {
    Path file = Files.writeString(dir.resolve("routes.properties"), String.join("\n",
        "proxy = https://proxy/drawbridge", "token = t", "route = wiki=http://10.0.0.5:8080 reports=http://10.0.0.6"));
    List<AgentConfig> configs = run("--config-file " + file, Map.of()).configs();
    assertEquals(List.of("wiki", "reports"), configs.stream().map(AgentConfig::backend).toList());
  }

  @Test
  void aConfigFileWithAnUnknownKeyOrThatCannotBeReadIsAUsageError() throws Exception {
    Path file = Files.writeString(dir.resolve("typo.properties"), "proxy = https://p/d\ntokn = t\n");
    UsageException typo = assertThrows(UsageException.class, () -> run("--config-file " + file, Map.of()));
    assertEquals(file + ": unknown key 'tokn'; keys are flag names without the dashes", typo.getMessage());
    UsageException missing =
        assertThrows(UsageException.class, () -> run("--config-file " + dir.resolve("absent.properties"), Map.of()));
    assertTrue(missing.getMessage().startsWith("--config-file: cannot read"), missing.getMessage());
  }
}
