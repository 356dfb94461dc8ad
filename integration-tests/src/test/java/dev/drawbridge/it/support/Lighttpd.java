package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * Debian's lighttpd as a reverse proxy between the agent and a proxy node, with its defaults: it
 * collects each of the node's responses whole before it passes it on ({@code
 * server.stream-response-body = 0}), as many gateways and corporate proxies do. A streamed poll
 * reaches the agent only when it ends. It listens on 127.0.0.1 only, in the foreground, with its
 * files in a directory of its own. {@code .ci/run} installs it; tests that need it are skipped where
 * it is missing.
 */
public final class Lighttpd implements AutoCloseable {

  /** The executable, as Debian's {@code lighttpd} package installs it. */
  public static final Path EXECUTABLE = Path.of("/usr/sbin/lighttpd");

  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  private final Process process;
  private final ProcessOutput output;
  private final int port;

  private Lighttpd(Process process, ProcessOutput output, int port) {
    this.process = process;
    this.output = output;
    this.port = port;
  }

  /** True when lighttpd is installed here. */
  public static boolean isInstalled() {
    return Files.isExecutable(EXECUTABLE);
  }

  /** Starts lighttpd in front of {@code 127.0.0.1:targetPort}. */
  public static Lighttpd start(int targetPort) {
    try {
      Path dir = TempDirs.create("drawbridge-lighttpd-");
      int port = freePort();
      Path docroot = Files.createDirectories(dir.resolve("docroot"));
      String config = "server.document-root = \"" + docroot + "\"\n"
          + "server.bind = \"127.0.0.1\"\n"
          + "server.port = " + port + "\n"
          + "server.modules = (\"mod_proxy\")\n"
          + "server.errorlog = \"" + dir.resolve("error.log") + "\"\n"
          + "proxy.server = (\"\" => ((\"host\" => \"127.0.0.1\", \"port\" => " + targetPort + ")))\n";
      Path file = dir.resolve("lighttpd.conf");
      Files.writeString(file, config, StandardCharsets.UTF_8);
      ProcessBuilder builder = new ProcessBuilder(EXECUTABLE.toString(), "-D", "-f", file.toString());
      Process process = builder.start();
      ProcessOutput output = new ProcessOutput("lighttpd-" + process.pid(), process);
      Lighttpd lighttpd = new Lighttpd(process, output, port);
      lighttpd.awaitListening();
      return lighttpd;
    } catch (IOException e) {
      throw new UncheckedIOException("could not start lighttpd", e);
    }
  }

  /** The port agents connect to instead of the proxy node's. */
  public int port() {
    return port;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private void awaitListening() {
    try {
      Awaitility.await("lighttpd listening").atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(50))
          .until(() -> !process.isAlive() || accepting());
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    if (!process.isAlive()) {
      throw new IllegalStateException("lighttpd exited at start: " + new ArrayList<>(output.lines()));
    }
  }

  private boolean accepting() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return socket.getLocalPort();
    }
  }
}
