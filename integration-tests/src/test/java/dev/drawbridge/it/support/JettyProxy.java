package dev.drawbridge.it.support;

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

/** The proxy WAR in an embedded Jetty 12 (ee10), set up to behave like tomcat-conf where it matters. */
final class JettyProxy implements RunningProxy {

  private final Server server;
  private final WebAppContext webApp;
  private final int port;

  private JettyProxy(Server server, WebAppContext webApp, int port) {
    this.server = server;
    this.webApp = webApp;
    this.port = port;
  }

  static RunningProxy start(ProxyDeployment deployment) {
    ProxyServer.Options options = deployment.options();
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
    connector.setAcceptQueueSize(
        options.acceptQueueSize() > 0 ? options.acceptQueueSize() : ProxyServer.DEFAULT_ACCEPT_QUEUE);
    server.addBean(adminRealm());
    connector.setHost(options.host());
    connector.setPort(deployment.port());
    // A restart re-binds the port the OS gave the first start, though old connections may linger.
    connector.setReuseAddress(true);
    server.addConnector(connector);
    WebAppContext webApp = proxyWebApp(deployment);
    server.setHandler(webApp);
    // Stopping must end held requests at once, not wait for them (Jetty's default is no wait).
    server.setStopTimeout(0);
    try {
      server.start();
    } catch (Exception e) {
      stopQuietly(server);
      throw new IllegalStateException("the proxy WAR did not start in Jetty", e);
    }
    return new JettyProxy(server, webApp, connector.getLocalPort());
  }

  private static SslContextFactory.Server sslContext(ProxyServer.Tls tls) {
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

  /** The container realm the WAR's security constraint uses, as Tomcat's tomcat-users.xml would. */
  private static HashLoginService adminRealm() {
    UserStore users = new UserStore();
    users.addUser(ProxyServer.ADMIN_USER, Credential.getCredential(ProxyServer.ADMIN_PASSWORD),
        new String[] {ProxyServer.ADMIN_ROLE});
    HashLoginService realm = new HashLoginService("Drawbridge");
    realm.setUserStore(users);
    return realm;
  }

  private static WebAppContext proxyWebApp(ProxyDeployment deployment) {
    WebAppContext webApp = new WebAppContext();
    String contextPath = deployment.options().contextPath();
    webApp.setContextPath(contextPath.isEmpty() ? "/" : contextPath);
    webApp.setWar(BuiltArtifacts.proxyWar().toString());
    webApp.setTempDirectory(deployment.workDir().resolve("webapp-tmp").toFile());
    // Like Tomcat's work directory, kept across restarts: a first run's token lives there.
    webApp.setTempDirectoryPersistent(true);
    if (deployment.configFile() != null) {
      webApp.setInitParameter(ProxyServer.CONFIG_PARAMETER, deployment.configFile().toAbsolutePath().toString());
    }
    // A WAR that fails to deploy must fail the test, not leave a server answering 503.
    webApp.setThrowUnavailableOnStartupException(true);
    return webApp;
  }

  @Override
  public int port() {
    return port;
  }

  /**
   * Stops the proxy as a container stops a web application it shuts down: the WAR first, while the
   * connector still holds every open connection (so its drain can still answer held clients and
   * finish responses in flight), then the server, which closes what is left.
   */
  @Override
  public void stop() {
    try {
      webApp.stop();
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("the proxy did not stop cleanly", e);
    }
  }

  private static void stopQuietly(Server server) {
    try {
      server.stop();
    } catch (Exception ignored) {
      // Already failing to start; the start failure is the one worth reporting.
    }
  }
}
