package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.RequestHead;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** {@link Main} as a real process: log format, SIGTERM drain and exit status. */
@DisabledOnOs(OS.WINDOWS)
class MainProcessTest {

  private final List<Server> servers = new ArrayList<>();
  private Process agent;

  @AfterEach
  void stop() throws Exception {
    if (agent != null) {
      agent.destroyForcibly();
    }
    for (Server server : servers) {
      server.stop();
    }
  }

  private int serve(org.eclipse.jetty.server.Handler handler) throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    server.addConnector(connector);
    server.setHandler(handler);
    server.start();
    servers.add(server);
    return connector.getLocalPort();
  }

  @Test
  void missingTokenIsAUsageErrorWithExitCode2() throws Exception {
    ProcessBuilder builder = javaMain("--proxy", "http://127.0.0.1:9/drawbridge", "--target", "http://127.0.0.1:9");
    builder.environment().remove("DRAWBRIDGE_TOKEN");
    builder.environment().remove("DRAWBRIDGE_TOKEN_FILE");
    agent = builder.start();
    assertTrue(agent.waitFor(20, TimeUnit.SECONDS));
    assertEquals(2, agent.exitValue());
    assertEquals("drawbridge-agent: --token or --token-file is required (or set DRAWBRIDGE_TOKEN or DRAWBRIDGE_TOKEN_FILE)\n"
        + Usage.hint() + "\n", new String(agent.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
  }

  @Test
  void newTokenPrintsATokenAndItsDigestAndNothingElse() throws Exception {
    agent = javaMain("new-token").start();
    assertTrue(agent.waitFor(20, TimeUnit.SECONDS));
    assertEquals(0, agent.exitValue());
    String[] lines = new String(agent.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n", -1);
    assertEquals(3, lines.length, "two lines, each ended");
    assertTrue(lines[0].matches("token: [A-Za-z0-9_-]{43}"), lines[0]);
    String token = lines[0].substring("token: ".length());
    java.security.MessageDigest sha256 = java.security.MessageDigest.getInstance("SHA-256");
    String digest = java.util.HexFormat.of().formatHex(sha256.digest(token.getBytes(StandardCharsets.US_ASCII)));
    assertEquals("agentTokenSha256: " + digest, lines[1]);
    assertEquals("", lines[2]);
  }

  /** The agent's main class in a fresh JVM on this test's class path, stdout and stderr merged. */
  private static ProcessBuilder javaMain(String... args) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true);
  }

  @Test
  void runningAgentDrainsOnSigterm() throws Exception {
    FakeProxy proxy = new FakeProxy();
    TestBackend backend = new TestBackend();
    int proxyPort = serve(proxy);
    int backendPort = serve(backend);
    ProcessBuilder builder = javaMain("--proxy", "http://127.0.0.1:" + proxyPort + FakeProxy.CONTEXT,
        "--target", "http://127.0.0.1:" + backendPort, "--agent-id", "process-agent", "--drain-timeout", "20s");
    builder.environment().put("DRAWBRIDGE_TOKEN", "process-token");
    builder.environment().remove("DRAWBRIDGE_TOKEN_FILE");
    agent = builder.start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    List<String> all = new ArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          lines.add(line);
        }
      } catch (IOException e) {
        // The process ended.
      }
    });
    reader.setDaemon(true);
    reader.start();

    String startup = awaitLine(lines, "Drawbridge agent");
    assertTrue(startup.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z INFO  Drawbridge agent .+ \\(protocol 1\\): "
        + "agent process-agent \\(process [0-9a-f]{8}\\) serving backend default -> target http://127\\.0\\.0\\.1:\\d+ via proxy "
        + "http://127\\.0\\.0\\.1:\\d+/drawbridge, concurrency 64 shared by all proxy nodes, names looked up again every 30s"),
        startup);
    awaitLine(lines, "Connected to proxy");

    proxy.deliver(new RequestHead("ex-term", "default", "GET", "/sse", List.of(), BodyMode.NONE, -1, null));
    FakeProxy.Upload upload = proxy.upload("ex-term");
    assertEquals("data: one\n\n", upload.chunk());

    // SIGTERM through the handle: Process.destroy() would also close our end of the agent's stdout.
    agent.toHandle().destroy();
    // The agent stops polling but keeps the exchange; only then does the backend finish it.
    String stopping = awaitLine(lines, "Stopping:");
    assertTrue(stopping.endsWith("waiting up to 20s for 1 request in flight"), stopping);
    assertFalse(upload.end.isDone());
    backend.sseRelease.countDown();
    assertEquals("END", upload.end());
    assertTrue(awaitLine(lines, "Drained").endsWith("INFO  Drained 1 exchanges; exiting"));
    assertTrue(agent.waitFor(20, TimeUnit.SECONDS));
    assertEquals(0, agent.exitValue(), "a drained agent exits 0, not 143");
    lines.drainTo(all);
    assertTrue(all.stream().noneMatch(line -> line.contains("process-token")), "the token is never logged");
  }

  @Test
  void plainHttpToAProxyOffLoopbackIsAUsageErrorWithExitCode2() throws Exception {
    ProcessBuilder builder = javaMain("--proxy", "http://192.0.2.10/drawbridge", "--target", "http://127.0.0.1:9",
        "--token", "x");
    agent = builder.start();
    assertTrue(agent.waitFor(20, TimeUnit.SECONDS));
    assertEquals(2, agent.exitValue());
    String output = new String(agent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals("drawbridge-agent: --proxy: 'http://192.0.2.10/drawbridge' is plain HTTP to a host that is not loopback,"
        + " so the agent token would cross the network unencrypted; use https:// or add --allow-insecure-http\n"
        + Usage.hint() + "\n", output);
  }

  /**
   * Two routes, trace logging (HttpClient's own debug output included), an exchange on each: the
   * token appears in no line the process printed, and each backend got its own polls.
   */
  @Test
  void twoRoutesAtTraceLevelNeverPrintTheToken() throws Exception {
    FakeProxy proxy = new FakeProxy();
    TestBackend backend = new TestBackend();
    int proxyPort = serve(proxy);
    int backendPort = serve(backend);
    String token = "tok-" + java.util.UUID.randomUUID();
    ProcessBuilder builder = javaMain("--proxy", "http://127.0.0.1:" + proxyPort + FakeProxy.CONTEXT,
        "--route", "default=http://127.0.0.1:" + backendPort, "--route", "wiki=http://127.0.0.1:" + backendPort + "/wiki",
        "--log-level", "trace", "--drain-timeout", "5s");
    builder.environment().put("DRAWBRIDGE_TOKEN", token);
    builder.environment().remove("DRAWBRIDGE_TOKEN_FILE");
    agent = builder.start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    List<String> all = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread reader = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          all.add(line);
          lines.add(line);
        }
      } catch (IOException e) {
        // The process ended.
      }
    });
    reader.setDaemon(true);
    reader.start();
    awaitLine(lines, "serving backend default -> target http://127.0.0.1:" + backendPort);
    awaitLine(lines, "serving backend wiki -> target http://127.0.0.1:" + backendPort + "/wiki");
    java.util.Set<String> polledBackends = new java.util.HashSet<>();
    while (polledBackends.size() < 2) {
      FakeProxy.Poll poll = proxy.polls.poll(20, TimeUnit.SECONDS);
      assertTrue(poll != null, "both backends poll");
      assertEquals("Bearer " + token, poll.headers().get("Authorization"));
      polledBackends.add(poll.query().replaceAll("backend=([^&]+).*", "$1"));
    }
    proxy.deliver(new RequestHead("ex-trace", "default", "GET", "/hello", List.of(), BodyMode.NONE, 0, null));
    assertEquals(200, proxy.upload("ex-trace").head().status());
    agent.toHandle().destroy();
    assertTrue(agent.waitFor(20, TimeUnit.SECONDS));
    reader.join(10_000);
    assertTrue(all.stream().anyMatch(line -> line.contains("FINE") || line.contains("DEBUG")), "trace output was on");
    assertTrue(all.stream().noneMatch(line -> line.contains(token)), "the token is never logged");
  }

  private static String awaitLine(BlockingQueue<String> lines, String fragment) throws InterruptedException {
    List<String> skipped = new ArrayList<>();
    while (true) {
      String line = lines.poll(20, TimeUnit.SECONDS);
      if (line == null) {
        throw new AssertionError("no line containing '" + fragment + "' within 20 s; saw " + skipped);
      }
      skipped.add(line);
      if (line.contains(fragment)) {
        return line;
      }
    }
  }
}
