package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@link ProxyServer} in a child JVM with a bounded heap ({@code -Xmx}). The child exits on
 * OutOfMemoryError, so a proxy that buffers a whole body shows up as a dead process, not a slow one.
 */
public final class ForkedProxyServer implements ProxyProcess {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);

  private final Process process;
  private final ProcessOutput output;
  private final String host;
  private final int port;
  private final Path workDir;

  private ForkedProxyServer(Process process, ProcessOutput output, String host, int port, Path workDir) {
    this.process = process;
    this.output = output;
    this.host = host;
    this.port = port;
    this.workDir = workDir;
  }

  static ForkedProxyServer start(
      String configJson, int heapMegabytes, ProxyServer.Options options, List<String> jvmOptions) {
    if (options.tls() != null) {
      throw new IllegalArgumentException("a forked proxy listens on plain HTTP only");
    }
    Path workDir = ProxyServer.createWorkDir();
    Path configFile = ProxyConfig.write(workDir.resolve("drawbridge.json"), configJson);
    List<String> command = new ArrayList<>();
    command.add(BuiltArtifacts.javaLauncher().toString());
    command.add("-Xmx" + heapMegabytes + "m");
    command.add("-XX:+ExitOnOutOfMemoryError");
    command.addAll(Containers.current().jvmOptions());
    // The same container, WAR, agent and tomcat-conf as this JVM's (a test's own options win).
    System.getProperties().stringPropertyNames().stream()
        .filter(name -> name.startsWith("drawbridge.it."))
        .sorted()
        .forEach(name -> command.add("-D" + name + "=" + System.getProperty(name)));
    command.addAll(jvmOptions);
    // The test JVM's classpath holds the container and this class; surefire/failsafe set it to the real
    // test classpath even when they launch through a manifest-only jar.
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), ProxyServerMain.class.getName()));
    command.addAll(List.of(configFile.toString(), workDir.toString()));
    command.addAll(ProxyServerMain.optionArguments(options));
    Process process;
    try {
      process = new ProcessBuilder(command).start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start the forked proxy", e);
    }
    WatchedJvms.watch(process, "the forked proxy");
    ProcessOutput output = new ProcessOutput("proxy-" + process.pid(), process);
    try {
      String portLine = output.awaitLine(ProxyServerMain.PORT_LINE_PREFIX + "\\d+$", START_TIMEOUT);
      int port = Integer.parseInt(portLine.substring(portLine.indexOf('=') + 1));
      return new ForkedProxyServer(process, output, options.host(), port, workDir);
    } catch (RuntimeException | AssertionError e) {
      process.destroyForcibly();
      throw e;
    }
  }

  @Override
  public String baseUrl() {
    return "http://" + host + ":" + port + ProxyServer.CONTEXT_PATH;
  }

  public URI uri(String pathAndQuery) {
    return URI.create(baseUrl() + pathAndQuery);
  }

  public int port() {
    return port;
  }

  @Override
  public long pid() {
    return process.pid();
  }

  /** False once the child died, e.g. of OutOfMemoryError. */
  @Override
  public boolean isAlive() {
    return process.isAlive();
  }

  /** Every line the child printed so far (its proxy logs included). */
  @Override
  public List<String> lines() {
    return output.lines();
  }

  /** SIGKILL: the node vanishes at once, as when its machine dies; its connections are reset. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Asks the child to stop by closing its stdin; kills it by PID if it does not exit in time. Fails
   * when a child that was still running did not stop cleanly (see {@link ProxyServerMain}).
   */
  public void stop() {
    try {
      boolean wasAlive = process.isAlive();
      process.getOutputStream().close();
      if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        ProcessHandle.of(process.pid()).ifPresent(ProcessHandle::destroyForcibly);
        process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } else if (wasAlive && process.exitValue() == ProxyServerMain.STOP_FAILED) {
        throw new IllegalStateException("the forked proxy did not stop cleanly; its output:\n" + String.join("\n", lines()));
      }
    } catch (IOException e) {
      process.destroyForcibly();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the child, then deletes its work directory once the child has exited. */
  @Override
  public void close() {
    try {
      stop();
    } finally {
      if (!process.isAlive()) {
        TempDirs.delete(workDir);
      }
    }
  }
}
