package dev.drawbridge.it.support;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The real proxy WAR in an embedded container on 127.0.0.1 and a port the OS picks, at context
 * path {@value #CONTEXT_PATH} (a sub-path deployment) unless {@link Options} says otherwise,
 * reading the config file a test wrote. The container is Jetty 12 or Tomcat 11, as {@link
 * Containers#current()} says; tests see no difference but the ones written down in {@link
 * Containers}.
 */
public final class ProxyServer implements AutoCloseable {

  /** Context path of the WAR unless a test asks for another, as Tomcat gives it to {@code drawbridge.xml}. */
  public static final String CONTEXT_PATH = "/drawbridge";

  /** Accept queue unless a test asks for another: tomcat-conf's {@code acceptCount}. */
  static final int DEFAULT_ACCEPT_QUEUE = 1000;

  /** Context parameter naming the proxy's config file (see the contract's config section). */
  public static final String CONFIG_PARAMETER = "drawbridge.config";

  /** User of the container realm allowed to see the admin views (role drawbridge-admin). */
  public static final String ADMIN_USER = "admin";

  /** That user's password. */
  public static final String ADMIN_PASSWORD = "admin-secret";

  /** The role the WAR's security constraint asks of admin users. */
  static final String ADMIN_ROLE = "drawbridge-admin";

  /**
   * HTTPS for the connector: the server's key and certificate in {@code keyStore}; with {@code
   * trustStore}, the CAs client certificates must chain to, required when {@code needClientAuth}.
   * Stores are PKCS12 or JKS; one password for store and key.
   */
  public record Tls(Path keyStore, String keyStorePassword, Path trustStore, String trustStorePassword,
      boolean needClientAuth) {}

  /**
   * How the server listens, beyond the defaults (plain HTTP, the container's idle timeouts, thread
   * pool and accept queue).
   *
   * @param tls HTTPS settings, or null for plain HTTP
   * @param idleTimeout the connector's idle timeout (how long a connection may send nothing), or
   *     null for the container's default (Jetty: 30 s; Tomcat: tomcat-conf's connectionTimeout and
   *     keepAliveTimeout)
   * @param maxThreads the threads of the server's pool, started at once and kept, or 0 for the
   *     container's default pool (Jetty: 8 to 200 threads; Tomcat: tomcat-conf's maxThreads)
   * @param acceptQueueSize connections the OS may hold for the server to accept, or 0 for 1000,
   *     the {@code acceptCount} of tomcat-conf (Jetty's own default of 50 resets connections when
   *     a few hundred clients connect at once on a busy machine)
   * @param contextPath the WAR's context path: {@value #CONTEXT_PATH}, or "" at the root
   * @param host the loopback address to listen on, 127.0.0.1 unless a test runs several nodes
   * @param port the port to listen on, or 0 for one the OS picks
   */
  public record Options(Tls tls, Duration idleTimeout, int maxThreads, int acceptQueueSize, String contextPath,
      String host, int port) {

    /**
     * Plain HTTP, the container's idle timeout and thread pool, an accept queue of 1000, at {@value
     * #CONTEXT_PATH} on 127.0.0.1 and a port the OS picks.
     */
    public static final Options DEFAULT = new Options(null, null, 0, 0, CONTEXT_PATH, "127.0.0.1", 0);

    public Options withTls(Tls value) {
      return new Options(value, idleTimeout, maxThreads, acceptQueueSize, contextPath, host, port);
    }

    public Options withIdleTimeout(Duration value) {
      return new Options(tls, value, maxThreads, acceptQueueSize, contextPath, host, port);
    }

    public Options withMaxThreads(int value) {
      return new Options(tls, idleTimeout, value, acceptQueueSize, contextPath, host, port);
    }

    public Options withAcceptQueueSize(int value) {
      return new Options(tls, idleTimeout, maxThreads, value, contextPath, host, port);
    }

    /** Deployed at the root, as tomcat-conf's ROOT.xml publishes it. */
    public Options atRoot() {
      return new Options(tls, idleTimeout, maxThreads, acceptQueueSize, "", host, port);
    }

    /** Listening on {@code address} (a loopback address) and {@code listenPort} (0: the OS picks). */
    public Options withAddress(String address, int listenPort) {
      return new Options(tls, idleTimeout, maxThreads, acceptQueueSize, contextPath, address, listenPort);
    }
  }

  private final Containers.Container container;
  private final RunningProxy running;
  private final Path configFile;
  private final Path workDir;
  private final Options options;
  /** Whether {@link #close} deletes {@link #workDir}: it was made for this proxy, not given by a test. */
  private boolean ownsWorkDir;

  private ProxyServer(
      Containers.Container container, RunningProxy running, Path configFile, Path workDir, Options options) {
    this.container = container;
    this.running = running;
    this.configFile = configFile;
    this.workDir = workDir;
    this.options = options;
  }

  private ProxyServer owningWorkDir(boolean owns) {
    ownsWorkDir = owns;
    return this;
  }

  /** Starts the proxy with this config (JSON text), written to a fresh temporary directory. */
  public static ProxyServer start(String configJson) {
    Path workDir = createWorkDir();
    return start(ProxyConfig.write(workDir.resolve("drawbridge.json"), configJson), workDir).owningWorkDir(true);
  }

  /** Starts the proxy with this config; see {@link ProxyConfig}. */
  public static ProxyServer start(ProxyConfig config) {
    return start(config.toJson());
  }

  /** Starts the proxy with this config, listening as {@code options} say (HTTPS, idle timeout). */
  public static ProxyServer start(ProxyConfig config, Options options) {
    Path workDir = createWorkDir();
    return start(ProxyConfig.write(workDir.resolve("drawbridge.json"), config.toJson()), workDir, 0, options)
        .owningWorkDir(true);
  }

  /**
   * Starts the proxy with no configuration at all, as on a first run; it keeps its generated
   * token in {@code workDir}'s webapp temp directory.
   */
  public static ProxyServer startUnconfigured(Path workDir) {
    return start(null, workDir, 0, Options.DEFAULT);
  }

  /**
   * Starts the proxy reading {@code configFile}; {@code workDir} becomes the webapp's temp dir,
   * where the proxy keeps files such as its generated token.
   */
  public static ProxyServer start(Path configFile, Path workDir) {
    return start(configFile, workDir, Options.DEFAULT);
  }

  /** Like {@link #start(Path, Path)}, listening as {@code options} say. */
  public static ProxyServer start(Path configFile, Path workDir, Options options) {
    return start(configFile, workDir, 0, options);
  }

  /**
   * Stops this proxy and starts a new one on the same port with the same config and work dir, as
   * a restarted container would be; agents polling this address must find it again.
   */
  public ProxyServer restart() {
    stop();
    ProxyServer restarted = start(configFile, workDir, port(), options).owningWorkDir(ownsWorkDir);
    ownsWorkDir = false;
    return restarted;
  }

  private static ProxyServer start(Path configFile, Path workDir, int port, Options options) {
    ProxyDeployment deployment =
        new ProxyDeployment(configFile, workDir, port != 0 ? port : options.port(), options);
    Containers.Container container = Containers.current();
    // Each branch names its container's classes only when taken: a run may lack the other's jars.
    RunningProxy running =
        switch (container) {
          case JETTY -> JettyProxy.start(deployment);
          case TOMCAT -> TomcatProxy.start(deployment);
        };
    return new ProxyServer(container, running, configFile, workDir, options);
  }

  /** The container this proxy runs in. */
  public Containers.Container container() {
    return container;
  }

  /**
   * Starts the same server in a child JVM limited to {@code heapMegabytes} of heap, so a test can
   * prove that memory stays flat however large the bodies are.
   */
  public static ForkedProxyServer forked(String configJson, int heapMegabytes) {
    return ForkedProxyServer.start(configJson, heapMegabytes, Options.DEFAULT, List.of());
  }

  /**
   * Like {@link #forked(String, int)}, listening as {@code options} say (plain HTTP only), with
   * more options for the child JVM, e.g. {@link ProxyServerMain#QUIET_ACCESS_LOG}.
   */
  public static ForkedProxyServer forked(
      String configJson, int heapMegabytes, Options options, List<String> jvmOptions) {
    return ForkedProxyServer.start(configJson, heapMegabytes, options, jvmOptions);
  }

  static Path createWorkDir() {
    return TempDirs.create("drawbridge-proxy-");
  }

  /**
   * E.g. {@code http://127.0.0.1:41234/drawbridge} ({@code https://} with {@link Tls}), without a
   * trailing slash; {@code http://127.0.0.1:41234} at the root.
   */
  public String baseUrl() {
    return (options.tls() == null ? "http" : "https") + "://" + options.host() + ":" + port() + options.contextPath();
  }

  /** The URI of {@code pathAndQuery} under the proxy, e.g. {@code uri("/hello?x=1")}. */
  public URI uri(String pathAndQuery) {
    return URI.create(baseUrl() + pathAndQuery);
  }

  public int port() {
    return running.port();
  }

  /** The configuration file the proxy reads and watches, or null on a first run without one. */
  public Path configFile() {
    return configFile;
  }

  /**
   * Stops the proxy as its container stops a web application it shuts down: the WAR first, while
   * open connections still stand (so its drain can still answer held clients and finish responses
   * in flight), then the server, which closes what is left. A second call does nothing.
   */
  public void stop() {
    running.stop();
  }

  /** Stops the proxy, and deletes its work directory unless a test gave it. */
  @Override
  public void close() {
    stop();
    if (ownsWorkDir) {
      ownsWorkDir = false;
      TempDirs.delete(workDir);
    }
  }
}
