package dev.drawbridge.it.support;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Entry point of a {@link ForkedProxyServer}: starts {@link ProxyServer} in this JVM, prints
 * {@value #PORT_LINE_PREFIX}PORT, and stops when its standard input ends. Standard input ends
 * when the parent closes it or dies, so a crashed test run leaves no proxy behind.
 */
public final class ProxyServerMain {

  /** Prefix of the line announcing the port; the parent waits for it. */
  static final String PORT_LINE_PREFIX = "drawbridge-it-proxy-port=";

  /**
   * JVM option that silences the proxy's access log (one line per exchange), for tests that pass
   * tens of thousands of requests and read the child's output only when something fails.
   */
  public static final String QUIET_ACCESS_LOG = "-Ddrawbridge.it.quietAccessLog=true";

  /** Exit status when the proxy did not stop cleanly (e.g. its container found leaked threads). */
  static final int STOP_FAILED = 3;

  /** Held here: java.util.logging keeps loggers only weakly, and with them their levels. */
  private static final Logger ACCESS_LOG = Logger.getLogger("dev.drawbridge.access");

  private ProxyServerMain() {}

  /**
   * Arguments: the config file, the work directory, and optionally the connector's idle timeout in
   * milliseconds, the most server threads and the accept queue size (0 for the harness defaults),
   * the address and the port to listen on (0: the OS picks).
   */
  public static void main(String[] args) throws IOException {
    if (args.length != 2 && args.length != 7) {
      System.err.println("usage: ProxyServerMain CONFIG_FILE WORK_DIR [IDLE_TIMEOUT_MILLIS MAX_THREADS ACCEPT_QUEUE HOST PORT]");
      System.exit(2);
    }
    if (Boolean.getBoolean("drawbridge.it.quietAccessLog")) {
      ACCESS_LOG.setLevel(Level.WARNING);
    }
    ProxyServer.Options options = ProxyServer.Options.DEFAULT;
    if (args.length == 7) {
      long idleMillis = Long.parseLong(args[2]);
      options = options.withMaxThreads(Integer.parseInt(args[3])).withAcceptQueueSize(Integer.parseInt(args[4]))
          .withAddress(args[5], Integer.parseInt(args[6]));
      if (idleMillis > 0) {
        options = options.withIdleTimeout(Duration.ofMillis(idleMillis));
      }
    }
    ProxyServer proxy = ProxyServer.start(Path.of(args[0]), Path.of(args[1]), options);
    System.out.println(PORT_LINE_PREFIX + proxy.port());
    System.out.flush();
    while (System.in.read() != -1) {
      // Nothing is ever sent; we only wait for the end of the stream.
    }
    try {
      proxy.stop();
    } catch (RuntimeException e) {
      // The parent reads the exit status: a proxy that did not stop cleanly fails its test.
      e.printStackTrace();
      System.exit(STOP_FAILED);
    }
    System.exit(0);
  }

  /** The optional arguments of {@link #main} that carry {@code options}. */
  static List<String> optionArguments(ProxyServer.Options options) {
    return List.of(
        Long.toString(options.idleTimeout() == null ? 0 : options.idleTimeout().toMillis()),
        Integer.toString(options.maxThreads()),
        Integer.toString(options.acceptQueueSize()),
        options.host(),
        Integer.toString(options.port()));
  }
}
