package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The proxy WAR in a real Tomcat 11, started from the distribution the build unpacks, in a JVM of
 * its own, configured as the README tells operators: the distribution's {@code conf/} with the
 * project's {@code tomcat-conf/} laid over it (the build does that), a config file, the WAR in
 * {@code webapps/}. Each instance has a fresh {@code CATALINA_BASE}, listens on 127.0.0.1 and a
 * port the OS picks, and has no shutdown port: it stops on SIGTERM, as under a service manager.
 */
public final class ForkedTomcat implements ProxyProcess {

  /** System property naming the unpacked Tomcat 11 distribution (set by the pom). */
  public static final String HOME_PROPERTY = "drawbridge.it.tomcatHome";

  private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
  /** Tomcat names its connector after the port it bound when the configured port is 0. */
  private static final Pattern PORT =
      Pattern.compile("Starting ProtocolHandler \\[\"http-nio-127\\.0\\.0\\.1-auto-\\d+-(\\d+)\"\\]");
  private static final String STARTED = "Server startup in";

  private final Process process;
  private final ProcessOutput output;
  private final Path base;
  private final int port;

  private ForkedTomcat(Process process, ProcessOutput output, Path base, int port) {
    this.process = process;
    this.output = output;
    this.base = base;
    this.port = port;
  }

  /**
   * Starts Tomcat with the WAR and {@code configJson} as its {@code drawbridge.json}, {@code
   * heapMegabytes} of heap at most and {@code jvmOptions} added to its JVM.
   */
  public static ForkedTomcat start(String configJson, int heapMegabytes, List<String> jvmOptions) {
    return start(configJson, heapMegabytes, jvmOptions, "");
  }

  /**
   * Like {@link #start(String, int, List)}, with {@code connectorAttributes} (e.g. {@code
   * processorCache="32"}) added to server.xml's HTTP connector: for measuring settings before
   * shipping them.
   */
  public static ForkedTomcat start(
      String configJson, int heapMegabytes, List<String> jvmOptions, String connectorAttributes) {
    Path home = home();
    Path base = createBase(home, configJson);
    if (!connectorAttributes.isEmpty()) {
      addConnectorAttributes(base.resolve("conf/server.xml"), connectorAttributes);
    }
    List<String> command = new ArrayList<>();
    command.add(BuiltArtifacts.javaLauncher().toString());
    command.add("-Xmx" + heapMegabytes + "m");
    command.add("-XX:+ExitOnOutOfMemoryError");
    // What catalina.sh adds on Java 17+, so Tomcat's leak detection works as in production.
    command.addAll(List.of(
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/java.io=ALL-UNNAMED",
        "--add-opens=java.base/java.util=ALL-UNNAMED",
        "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
        "--add-opens=java.rmi/sun.rmi.transport=ALL-UNNAMED"));
    command.addAll(List.of(
        "-Djava.util.logging.config.file=" + base.resolve("conf/logging.properties"),
        "-Djava.util.logging.manager=org.apache.juli.ClassLoaderLogManager",
        "-Dcatalina.home=" + home,
        "-Dcatalina.base=" + base,
        "-Djava.io.tmpdir=" + base.resolve("temp"),
        // Read by tomcat-conf/server.xml and by the proxy.
        "-Ddrawbridge.http.address=127.0.0.1",
        "-Ddrawbridge.http.port=0",
        "-Ddrawbridge.shutdown.port=-1",
        "-Ddrawbridge.config=" + base.resolve("conf/drawbridge.json")));
    command.addAll(jvmOptions);
    command.addAll(List.of(
        "-cp", home.resolve("bin/bootstrap.jar") + ":" + home.resolve("bin/tomcat-juli.jar"),
        "org.apache.catalina.startup.Bootstrap", "start"));
    Process process;
    try {
      process = new ProcessBuilder(command).directory(base.toFile()).start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start Tomcat", e);
    }
    WatchedJvms.watch(process, "the Tomcat proxy");
    ProcessOutput output = new ProcessOutput("tomcat-" + process.pid(), process);
    try {
      Matcher port = PORT.matcher(output.awaitLine(PORT.pattern(), START_TIMEOUT));
      if (!port.find()) {
        throw new AssertionError("no port in Tomcat's connector name");
      }
      output.awaitLine(STARTED, START_TIMEOUT);
      ForkedTomcat tomcat = new ForkedTomcat(process, output, base, Integer.parseInt(port.group(1)));
      if (tomcat.logLines("catalina\\..*\\.log").stream().anyMatch(line -> line.contains("SEVERE"))) {
        throw new AssertionError("Tomcat logged SEVERE while starting:\n" + String.join("\n", tomcat.logLines("catalina\\..*\\.log")));
      }
      return tomcat;
    } catch (RuntimeException | AssertionError e) {
      process.destroyForcibly();
      throw e;
    }
  }

  /** The unpacked distribution, {@code CATALINA_HOME}. */
  static Path home() {
    String home = System.getProperty(HOME_PROPERTY);
    if (home == null || !Files.isRegularFile(Path.of(home, "bin/bootstrap.jar"))) {
      throw new IllegalStateException(
          HOME_PROPERTY + " must name an unpacked Tomcat 11; run this test with 'mvn verify', which unpacks one");
    }
    return Path.of(home).toAbsolutePath();
  }

  /**
   * A fresh {@code CATALINA_BASE}: the home's {@code conf/} (the distribution with tomcat-conf laid
   * over it, without the example context descriptor and another test's config), the config file,
   * the WAR as {@code webapps/drawbridge.war}.
   */
  private static Path createBase(Path home, String configJson) {
    try {
      Path base = TempDirs.create("drawbridge-tomcat-");
      Path conf = Files.createDirectories(base.resolve("conf"));
      try (Stream<Path> files = Files.list(home.resolve("conf"))) {
        for (Path file : files.filter(Files::isRegularFile).toList()) {
          if (!file.getFileName().toString().equals("drawbridge.json")) {
            Files.copy(file, conf.resolve(file.getFileName()));
          }
        }
      }
      Files.writeString(conf.resolve("drawbridge.json"), configJson, StandardCharsets.UTF_8);
      for (String dir : List.of("logs", "temp", "work", "webapps")) {
        Files.createDirectories(base.resolve(dir));
      }
      Files.copy(BuiltArtifacts.proxyWarFile(), base.resolve("webapps/drawbridge.war"), StandardCopyOption.REPLACE_EXISTING);
      return base;
    } catch (IOException e) {
      throw new UncheckedIOException("could not prepare a Tomcat base directory", e);
    }
  }

  /** The HTTP connector is server.xml's first Connector element; the others are commented out. */
  private static void addConnectorAttributes(Path serverXml, String attributes) {
    try {
      String xml = Files.readString(serverXml, StandardCharsets.UTF_8);
      int connector = xml.indexOf("<Connector ");
      if (connector < 0) {
        throw new IllegalStateException("server.xml has no Connector");
      }
      int at = connector + "<Connector ".length();
      Files.writeString(serverXml, xml.substring(0, at) + attributes + " " + xml.substring(at), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String baseUrl() {
    return "http://127.0.0.1:" + port + ProxyServer.CONTEXT_PATH;
  }

  public int port() {
    return port;
  }

  @Override
  public long pid() {
    return process.pid();
  }

  @Override
  public boolean isAlive() {
    return process.isAlive();
  }

  /** What Tomcat printed on its console: its own log lines at INFO and above, and the proxy's. */
  @Override
  public List<String> lines() {
    return output.lines();
  }

  /** The lines of the files in {@code logs/} whose names match {@code fileNameRegex}, in name order. */
  public List<String> logLines(String fileNameRegex) {
    Pattern name = Pattern.compile(fileNameRegex);
    List<String> lines = new ArrayList<>();
    try (Stream<Path> files = Files.list(base.resolve("logs"))) {
      for (Path file : files.filter(f -> name.matcher(f.getFileName().toString()).matches()).sorted().toList()) {
        lines.addAll(Files.readAllLines(file, StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read Tomcat's logs", e);
    }
    return lines;
  }

  /** {@code CATALINA_BASE}, e.g. to read its logs. */
  public Path base() {
    return base;
  }

  /** SIGTERM, as a service manager stops Tomcat; kills it if it does not exit in time. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
