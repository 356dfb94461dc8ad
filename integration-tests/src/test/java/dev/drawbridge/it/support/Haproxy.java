package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Debian's HAProxy as the load balancer in front of several proxy nodes, run from the shipped
 * {@code haproxy-conf/haproxy.cfg} with one {@code server} line per node, listening on 127.0.0.1
 * only. {@code .ci/run} installs it; tests that need it are skipped where it is missing.
 */
public final class Haproxy implements AutoCloseable {

  /** The executable, as Debian's {@code haproxy} package installs it. */
  public static final Path EXECUTABLE = Path.of("/usr/sbin/haproxy");

  /** System property naming the shipped configuration; the pom sets it. */
  private static final String CONFIG_PROPERTY = "drawbridge.it.haproxyConf";

  private static final HttpClient STATS_CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final ListeningProcess process;
  private final int port;
  private final int statsPort;

  private Haproxy(ListeningProcess process, int port, int statsPort) {
    this.process = process;
    this.port = port;
    this.statsPort = statsPort;
  }

  /** True when HAProxy is installed here. */
  public static boolean isInstalled() {
    return Files.isExecutable(EXECUTABLE);
  }

  /**
   * Starts HAProxy balancing over {@code nodes} (name to {@code address:port}), checking each
   * node's readiness every {@code checkInterval}.
   */
  public static Haproxy start(Map<String, String> nodes, Duration checkInterval) {
    Path shipped = Path.of(System.getProperty(CONFIG_PROPERTY, "../haproxy-conf/haproxy.cfg"));
    StringBuilder config = new StringBuilder();
    try {
      config.append(Files.readString(shipped, StandardCharsets.UTF_8));
      nodes.forEach((name, address) -> config.append("    server ").append(name).append(' ').append(address)
          .append(" check\n"));
      Path dir = TempDirs.create("drawbridge-haproxy-");
      Path file = dir.resolve("haproxy.cfg");
      Files.writeString(file, config, StandardCharsets.UTF_8);
      int port = ListeningProcess.freePort();
      int statsPort = ListeningProcess.freePort();
      ProcessBuilder builder = new ProcessBuilder(EXECUTABLE.toString(), "-db", "-f", file.toString());
      Map<String, String> env = builder.environment();
      env.put("LB_BIND", "127.0.0.1:" + port);
      env.put("LB_STATS_BIND", "127.0.0.1:" + statsPort);
      env.put("LB_CHECK_INTERVAL", checkInterval.toMillis() + "ms");
      // A node refusing connections or answering 503 fails its check at once whatever this is; a
      // machine busy with other builds can stall every node for seconds, which is not a failure.
      env.put("LB_CHECK_TIMEOUT", "30s");
      env.put("DRAWBRIDGE_PATH", ProxyServer.CONTEXT_PATH);
      return new Haproxy(ListeningProcess.start("haproxy", builder, port), port, statsPort);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start HAProxy with " + shipped, e);
    }
  }

  /** E.g. {@code http://127.0.0.1:41234/drawbridge}: where clients send their requests. */
  public String baseUrl() {
    return "http://127.0.0.1:" + port + ProxyServer.CONTEXT_PATH;
  }

  /**
   * Each node's state as HAProxy sees it now: {@code UP}, {@code DOWN}, {@code UP 1/2} ..., or
   * {@code UNCHECKED} while its first check has not completed (HAProxy counts it UP meanwhile).
   */
  public Map<String, String> nodeStates() {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statsPort + "/;csv"))
        .timeout(Duration.ofSeconds(10)).GET().build();
    String csv;
    try {
      csv = STATS_CLIENT.send(request, HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      throw new UncheckedIOException("HAProxy's stats page did not answer", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    String[] lines = csv.split("\n");
    List<String> columns = Arrays.asList(lines[0].replaceFirst("^# ", "").split(","));
    int proxyName = columns.indexOf("pxname");
    int serverName = columns.indexOf("svname");
    int status = columns.indexOf("status");
    int checkStatus = columns.indexOf("check_status");
    Map<String, String> states = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      String[] fields = lines[i].split(",", -1);
      if (fields.length > status && fields[proxyName].equals("drawbridge_nodes")
          && !fields[serverName].equals("BACKEND")) {
        // A server is UP before its first check has even run: that is not a node found ready.
        boolean unchecked = checkStatus >= 0 && fields[checkStatus].contains("INI");
        states.put(fields[serverName], unchecked ? "UNCHECKED" : fields[status]);
      }
    }
    return states;
  }

  /** Every line HAProxy printed. */
  public List<String> lines() {
    return process.lines();
  }

  @Override
  public void close() {
    process.close();
  }
}
