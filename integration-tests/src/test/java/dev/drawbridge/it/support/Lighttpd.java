package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

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

  private final ListeningProcess process;

  private Lighttpd(ListeningProcess process) {
    this.process = process;
  }

  /** True when lighttpd is installed here. */
  public static boolean isInstalled() {
    return Files.isExecutable(EXECUTABLE);
  }

  /** Starts lighttpd in front of {@code 127.0.0.1:targetPort}. */
  public static Lighttpd start(int targetPort) {
    try {
      Path dir = TempDirs.create("drawbridge-lighttpd-");
      int port = ListeningProcess.freePort();
      Path docroot = Files.createDirectories(dir.resolve("docroot"));
      String config = "server.document-root = \"" + docroot + "\"\n"
          + "server.bind = \"127.0.0.1\"\n"
          + "server.port = " + port + "\n"
          + "server.modules = (\"mod_proxy\")\n"
          + "server.errorlog = \"" + dir.resolve("error.log") + "\"\n"
          + "proxy.server = (\"\" => ((\"host\" => \"127.0.0.1\", \"port\" => " + targetPort + ")))\n";
      Path file = dir.resolve("lighttpd.conf");
      Files.writeString(file, config, StandardCharsets.UTF_8);
      return new Lighttpd(ListeningProcess.start("lighttpd",
          new ProcessBuilder(EXECUTABLE.toString(), "-D", "-f", file.toString()), port));
    } catch (IOException e) {
      throw new UncheckedIOException("could not start lighttpd", e);
    }
  }

  /** The port agents connect to instead of the proxy node's. */
  public int port() {
    return process.port();
  }

  @Override
  public void close() {
    process.close();
  }
}
