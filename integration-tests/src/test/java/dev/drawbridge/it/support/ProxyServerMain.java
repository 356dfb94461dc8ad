package dev.drawbridge.it.support;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Entry point of a {@link ForkedProxyServer}: starts {@link ProxyServer} in this JVM, prints
 * {@value #PORT_LINE_PREFIX}PORT, and stops when its standard input ends. Standard input ends
 * when the parent closes it or dies, so a crashed test run leaves no proxy behind.
 */
public final class ProxyServerMain {

  /** Prefix of the line announcing the port; the parent waits for it. */
  static final String PORT_LINE_PREFIX = "drawbridge-it-proxy-port=";

  private ProxyServerMain() {}

  /** Arguments: the config file, the work directory. */
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: ProxyServerMain CONFIG_FILE WORK_DIR");
      System.exit(2);
    }
    // The benchmark holds thousands of silent requests for longer than Jetty's default 30 s.
    String idleSeconds = System.getProperty("drawbridge.it.idleTimeoutSeconds");
    ProxyServer.Options options =
        idleSeconds == null
            ? ProxyServer.Options.DEFAULT
            : ProxyServer.Options.DEFAULT.withIdleTimeout(java.time.Duration.ofSeconds(Long.parseLong(idleSeconds)));
    ProxyServer proxy = ProxyServer.start(Path.of(args[0]), Path.of(args[1]), options);
    System.out.println(PORT_LINE_PREFIX + proxy.port());
    System.out.flush();
    while (System.in.read() != -1) {
      // Nothing is ever sent; we only wait for the end of the stream.
    }
    proxy.stop();
    System.exit(0);
  }
}
