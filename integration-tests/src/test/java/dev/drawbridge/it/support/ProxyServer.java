package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.security.HashLoginService;
import org.eclipse.jetty.security.UserStore;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.security.Credential;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The real proxy WAR in an embedded Jetty 12 (ee10) on 127.0.0.1 and a port the OS picks, at
 * context path {@value #CONTEXT_PATH} (a sub-path deployment) unless {@link Options} says
 * otherwise, reading the config file a test wrote.
 */
public final class ProxyServer implements AutoCloseable {

  /** Context path of the WAR unless a test asks for another, as Tomcat gives it to {@code drawbridge.xml}. */
  public static final String CONTEXT_PATH = "/drawbridge";

  /** Accept queue unless a test asks for another: tomcat-conf's {@code acceptCount}. */
  private static final int DEFAULT_ACCEPT_QUEUE = 1000;

  /** Context parameter naming the proxy's config file (see the contract's config section). */
  public static final String CONFIG_PARAMETER = "drawbridge.config";

  /** User of the container realm allowed to see the admin views (role drawbridge-admin). */
  public static final String ADMIN_USER = "admin";

  /** That user's password. */
  public static final String ADMIN_PASSWORD = "admin-secret";

  /**
   * HTTPS for the connector: the server's key and certificate in {@code keyStore}; with {@code
   * trustStore}, the CAs client certificates must chain to, required when {@code needClientAuth}.
   * Stores are PKCS12 or JKS; one password for store and key.
   */
  public record Tls(Path keyStore, String keyStorePassword, Path trustStore, String trustStorePassword,
      boolean needClientAuth) {}

  /**
   * How the server listens, beyond the defaults (plain HTTP, Jetty's 30 s idle timeout, thread pool
   * and accept queue).
   *
   * @param tls HTTPS settings, or null for plain HTTP
   * @param idleTimeout the connector's idle timeout (how long a connection may send nothing), or
   *     null for Jetty's default
   * @param maxThreads the threads of the server's pool, started at once and kept, or 0 for Jetty's
   *     default pool (8 to 200 threads)
   * @param acceptQueueSize connections the OS may hold for the server to accept, or 0 for 1000,
   *     the {@code acceptCount} of tomcat-conf (Jetty's own default of 50 resets connections when
   *     a few hundred clients connect at once on a busy machine)
   * @param contextPath the WAR's context path: {@value #CONTEXT_PATH}, or "" at the root
   */
  public record Options(Tls tls, Duration idleTimeout, int maxThreads, int acceptQueueSize, String contextPath) {

    /** Plain HTTP, Jetty's idle timeout and thread pool, an accept queue of 1000, at {@value #CONTEXT_PATH}. */
    public static final Options DEFAULT = new Options(null, null, 0, 0, CONTEXT_PATH);

    public Options withTls(Tls value) {
      return new Options(value, idleTimeout, maxThreads, acceptQueueSize, contextPath);
    }

    public Options withIdleTimeout(Duration value) {
      return new Options(tls, value, maxThreads, acceptQueueSize, contextPath);
    }

    public Options withMaxThreads(int value) {
      return new Options(tls, idleTimeout, value, acceptQueueSize, contextPath);
    }

    public Options withAcceptQueueSize(int value) {
      return new Options(tls, idleTimeout, maxThreads, value, contextPath);
    }

    /** Deployed at the root, as tomcat-conf's ROOT.xml publishes it. */
    public Options atRoot() {
      return new Options(tls, idleTimeout, maxThreads, acceptQueueSize, "");
    }
  }

  private final Server server;
  private final WebAppContext webApp;
  private final int port;
  private final Path configFile;
  private final Path workDir;
  private final Options options;

  private ProxyServer(
      Server server, WebAppContext webApp, int port, Path configFile, Path workDir, Options options) {
    this.server = server;
    this.webApp = webApp;
    this.port = port;
    this.configFile = configFile;
    this.workDir = workDir;
    this.options = options;
  }

  /** Starts the proxy with this config (JSON text), written to a fresh temporary directory. */
  public static ProxyServer start(String configJson) {
    Path workDir = createWorkDir();
    return start(ProxyConfig.write(workDir.resolve("drawbridge.json"), configJson), workDir);
  }

  /** Starts the proxy with this config; see {@link ProxyConfig}. */
  public static ProxyServer start(ProxyConfig config) {
    return start(config.toJson());
  }

  /** Starts the proxy with this config, listening as {@code options} say (HTTPS, idle timeout). */
  public static ProxyServer start(ProxyConfig config, Options options) {
    Path workDir = createWorkDir();
    return start(ProxyConfig.write(workDir.resolve("drawbridge.json"), config.toJson()), workDir, 0, options);
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
    return start(configFile, workDir, port, options);
  }

  private static ProxyServer start(Path configFile, Path workDir, int port, Options options) {
    // A fixed pool when sized: the thread counts a test reads are then the application's own.
    Server server =
        options.maxThreads() > 0
            ? new Server(new QueuedThreadPool(options.maxThreads(), options.maxThreads()))
            : new Server();
    HttpConfiguration http = new HttpConfiguration();
    // Like the Tomcat configuration: encoded characters such as %2F pass through to the backend.
    http.setUriCompliance(UriCompliance.UNSAFE);
    ServerConnector connector =
        options.tls() == null
            ? new ServerConnector(server, new HttpConnectionFactory(http))
            : new ServerConnector(server, new SslConnectionFactory(sslContext(options.tls()), "http/1.1"),
                new HttpConnectionFactory(http));
    if (options.idleTimeout() != null) {
      connector.setIdleTimeout(options.idleTimeout().toMillis());
    }
    connector.setAcceptQueueSize(options.acceptQueueSize() > 0 ? options.acceptQueueSize() : DEFAULT_ACCEPT_QUEUE);
    server.addBean(adminRealm());
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    // A restart re-binds the port the OS gave the first start, though old connections may linger.
    connector.setReuseAddress(true);
    server.addConnector(connector);
    WebAppContext webApp = proxyWebApp(configFile, workDir, options.contextPath());
    server.setHandler(webApp);
    // Stopping must end held requests at once, not wait for them (Jetty's default is no wait).
    server.setStopTimeout(0);
    try {
      server.start();
    } catch (Exception e) {
      stopQuietly(server);
      throw new IllegalStateException("the proxy WAR did not start in Jetty", e);
    }
    return new ProxyServer(server, webApp, connector.getLocalPort(), configFile, workDir, options);
  }

  private static SslContextFactory.Server sslContext(Tls tls) {
    SslContextFactory.Server ssl = new SslContextFactory.Server();
    ssl.setKeyStorePath(tls.keyStore().toString());
    ssl.setKeyStorePassword(tls.keyStorePassword());
    if (tls.trustStore() != null) {
      ssl.setTrustStorePath(tls.trustStore().toString());
      ssl.setTrustStorePassword(tls.trustStorePassword());
    }
    // Like Tomcat's certificateVerification="required": no valid client certificate, no handshake.
    ssl.setNeedClientAuth(tls.needClientAuth());
    return ssl;
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

  /** The container realm the WAR's security constraint uses, as Tomcat's tomcat-users.xml would. */
  private static HashLoginService adminRealm() {
    UserStore users = new UserStore();
    users.addUser(ADMIN_USER, Credential.getCredential(ADMIN_PASSWORD), new String[] {"drawbridge-admin"});
    HashLoginService realm = new HashLoginService("Drawbridge");
    realm.setUserStore(users);
    return realm;
  }

  private static WebAppContext proxyWebApp(Path configFile, Path workDir, String contextPath) {
    WebAppContext webApp = new WebAppContext();
    webApp.setContextPath(contextPath.isEmpty() ? "/" : contextPath);
    webApp.setWar(BuiltArtifacts.proxyWar().toString());
    webApp.setTempDirectory(workDir.resolve("webapp-tmp").toFile());
    // Like Tomcat's work directory, kept across restarts: a first run's token lives there.
    webApp.setTempDirectoryPersistent(true);
    if (configFile != null) {
      webApp.setInitParameter(CONFIG_PARAMETER, configFile.toAbsolutePath().toString());
    }
    // A WAR that fails to deploy must fail the test, not leave a server answering 503.
    webApp.setThrowUnavailableOnStartupException(true);
    return webApp;
  }

  static Path createWorkDir() {
    try {
      return Files.createTempDirectory("drawbridge-proxy-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * E.g. {@code http://127.0.0.1:41234/drawbridge} ({@code https://} with {@link Tls}), without a
   * trailing slash; {@code http://127.0.0.1:41234} at the root.
   */
  public String baseUrl() {
    return (options.tls() == null ? "http" : "https") + "://127.0.0.1:" + port + options.contextPath();
  }

  /** The URI of {@code pathAndQuery} under the proxy, e.g. {@code uri("/hello?x=1")}. */
  public URI uri(String pathAndQuery) {
    return URI.create(baseUrl() + pathAndQuery);
  }

  public int port() {
    return port;
  }

  /** The configuration file the proxy reads and watches, or null on a first run without one. */
  public Path configFile() {
    return configFile;
  }

  /**
   * Stops the proxy as a container stops a web application it shuts down: the WAR first, while the
   * connector still holds every open connection (so its drain can still answer held clients and
   * finish responses in flight), then the server, which closes what is left.
   */
  public void stop() {
    try {
      webApp.stop();
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("the proxy did not stop cleanly", e);
    }
  }

  @Override
  public void close() {
    stop();
  }

  private static void stopQuietly(Server server) {
    try {
      server.stop();
    } catch (Exception ignored) {
      // Already failing to start; the start failure is the one worth reporting.
    }
  }
}
