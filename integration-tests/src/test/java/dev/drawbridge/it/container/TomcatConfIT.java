package dev.drawbridge.it.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.BuiltArtifacts;
import dev.drawbridge.it.support.ProcessOutput;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TempDirs;
import dev.drawbridge.it.support.Tokens;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * tomcat-conf/ as an operator uses it, in the real Tomcat of this execution (11 or 10.1): a
 * distribution unpacked as is, its sample applications still in webapps/, the whole of tomcat-conf
 * overlaid on its conf/, {@code drawbridge.war} beside conf/ where ROOT.xml points. The proxy must
 * answer at the root, every other path must reach the service (no Tomcat sample application
 * answers), Tomcat must listen on its HTTP port only (no shutdown port), and a service that builds
 * absolute URLs from Host must hand out URLs that work.
 */
@EnabledIfSystemProperty(named = ServerUnderTest.KIND_PROPERTY, matches = "tomcat")
@EnabledOnOs(OS.LINUX)
@Timeout(180)
class TomcatConfIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  /** Tomcat names a connector on port 0 after the port it got: {@code http-nio-127.0.0.1-auto-1-41234}. */
  private static final Pattern AUTO_PORT = Pattern.compile("Starting ProtocolHandler \\[\"http-nio-127\\.0\\.0\\.1-auto-\\d+-(\\d+)\"\\]");

  private final ServerUnderTest server = ServerUnderTest.current();
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(WAIT).build();
  private final String token = Tokens.random();
  private Process tomcat;

  @AfterEach
  void stopTomcat() throws InterruptedException {
    if (tomcat != null && tomcat.isAlive()) {
      tomcat.destroy();
      if (!tomcat.waitFor(30, TimeUnit.SECONDS)) {
        tomcat.destroyForcibly();
      }
    }
  }

  @Test
  void theProxyIsPublishedAtTheRootAndNothingElseIs() throws Exception {
    Path base = catalinaBase();
    int port = startTomcat(base);
    String publicUrl = "http://127.0.0.1:" + port;
    assertEquals(200, get(publicUrl + "/_drawbridge/health").statusCode());

    try (Backend service = Backend.start();
        AgentProcess agent = AgentProcess.connect(publicUrl, service.url(), "default", token, WAIT)) {
      service.respondTo("/index", Responders.absoluteUrlOf("/files/demo-1.0.tgz"));
      service.respondByDefault(Responders.fixed(404, "text/plain", "not a page of the service"));

      String url = get(publicUrl + "/index").body();
      assertEquals(publicUrl + "/files/demo-1.0.tgz", url, "a URL built from the client's Host");
      assertEquals("not a page of the service", get(url).body(), "and it leads back through the tunnel");
      for (String sample : List.of("/", "/manager/html", "/host-manager/html", "/docs/", "/examples/")) {
        HttpResponse<String> response = get(publicUrl + sample);
        assertEquals("not a page of the service", response.body(), sample + " must reach the service, not Tomcat");
      }
    }
    assertEquals(Set.of(port), listeningPorts(tomcat.pid()), "the HTTP connector, and no shutdown port");
    aRequestTomcatRefusesItselfShowsNoStackTraceOrVersion(publicUrl);
  }

  /** A header section over maxHttpHeaderSize: Tomcat's own 400, without its report. */
  private void aRequestTomcatRefusesItselfShowsNoStackTraceOrVersion(String publicUrl) throws Exception {
    HttpResponse<String> refused = client.send(
        HttpRequest.newBuilder(URI.create(publicUrl + "/index")).timeout(WAIT)
            .header("Cookie", "session=" + "x".repeat(16 * 1024)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(400, refused.statusCode(), refused::body);
    for (String leak : List.of("Exception", "org.apache", "Tomcat")) {
      assertFalse(refused.body().contains(leak), () -> "Tomcat's error page shows '" + leak + "': " + refused.body());
    }
  }

  /**
   * A fresh CATALINA_BASE: the distribution's own conf/ and webapps/ (sample applications
   * included), tomcat-conf/ overlaid, the proxy's config and the WAR where ROOT.xml expects them.
   */
  private Path catalinaBase() throws IOException {
    Path base = TempDirs.create("drawbridge-tomcat-conf-");
    Path conf = base.resolve("conf");
    // Without what the Arquillian scenario may have left: its deployments and their descriptors.
    copyTree(server.home().resolve("conf"), conf, "Catalina");
    copyTree(server.home().resolve("webapps"), base.resolve("webapps"), "drawbridge");
    // The build overlaid this Tomcat's conf/ for the Arquillian scenario; a user's starts stock,
    // and whatever the test's overlay added on top is replaced by tomcat-conf's own files below.
    copyTree(Path.of(System.getProperty("basedir", ".")).resolve("../tomcat-conf"), conf, null);
    Files.writeString(conf.resolve("drawbridge.json"),
        ProxyConfig.singleBackend("default", Tokens.sha256Hex(token)).toJson());
    Files.copy(BuiltArtifacts.proxyWarFile(), base.resolve("drawbridge.war"));
    for (String directory : List.of("logs", "temp", "work")) {
      Files.createDirectories(base.resolve(directory));
    }
    return base;
  }

  /** Starts Tomcat on a port of the OS's choosing and returns it once the connector is up. */
  private int startTomcat(Path base) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(server.home().resolve("bin/catalina.sh").toString(), "run");
    builder.environment().put("CATALINA_HOME", server.home().toString());
    builder.environment().put("CATALINA_BASE", base.toString());
    builder.environment().put("CATALINA_OPTS",
        "-Xmx256m -Ddrawbridge.http.address=127.0.0.1 -Ddrawbridge.http.port=0");
    builder.environment().remove("CATALINA_PID");
    tomcat = builder.start();
    ProcessOutput output = new ProcessOutput("tomcat-conf-" + tomcat.pid(), tomcat);
    Matcher started = AUTO_PORT.matcher(output.awaitLine(AUTO_PORT.pattern(), WAIT));
    assertTrue(started.find());
    output.awaitLine("Server startup in", WAIT);
    return Integer.parseInt(started.group(1));
  }

  private HttpResponse<String> get(String url) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * TCP ports process {@code pid} listens on: its socket inodes (from /proc/PID/fd) matched with
   * the listening sockets of /proc/net/tcp and tcp6 (state 0A).
   */
  private static Set<Integer> listeningPorts(long pid) throws IOException {
    Set<String> inodes = new HashSet<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      fds.forEach(fd -> {
        try {
          String link = Files.readSymbolicLink(fd).toString();
          if (link.startsWith("socket:[")) {
            inodes.add(link.substring(8, link.length() - 1));
          }
        } catch (IOException e) {
          // The descriptor closed while listed: not a listening socket.
        }
      });
    }
    Set<Integer> ports = new HashSet<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      List<String> lines = Files.readAllLines(Path.of(table));
      for (String line : lines.subList(1, lines.size())) {
        String[] fields = line.trim().split("\\s+");
        if (fields[3].equals("0A") && inodes.contains(fields[9])) {
          String local = fields[1];
          ports.add(Integer.parseInt(local.substring(local.indexOf(':') + 1), 16));
        }
      }
    }
    return ports;
  }

  /** Copies {@code from} into {@code to}, leaving out top-level entries whose name starts with {@code skipped}. */
  private static void copyTree(Path from, Path to, String skipped) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Path relative = from.relativize(file);
        if (skipped != null && relative.getNameCount() > 0 && relative.getName(0).toString().startsWith(skipped)) {
          continue;
        }
        Path target = to.resolve(relative.toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(target);
        } else {
          Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
