package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Realm;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.JreMemoryLeakPreventionListener;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.core.ThreadLocalLeakPreventionListener;
import org.apache.catalina.realm.LockOutRealm;
import org.apache.catalina.startup.ContextConfig;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.IntrospectionUtils;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.apache.tomcat.util.scan.StandardJarScanFilter;
import org.apache.tomcat.util.scan.StandardJarScanner;

/**
 * The proxy WAR in an embedded Tomcat 11 set up as the shipped tomcat-conf sets up the
 * distribution: server.xml's HTTP connector attributes, its leak-prevention listeners, a lock-out
 * realm around the users, catalina.properties' scan exclusions, the context descriptor's
 * attributes (the WAR run from its file), and the distribution's shutdown order.
 */
final class TomcatProxy implements RunningProxy {

  private final Tomcat tomcat;
  private final int port;
  private final TomcatLogWatch log;
  /**
   * Numbers the engines of the Tomcats this JVM runs. Tomcat names a context's management bean
   * after its engine, host and path, and the proxy reads that bean to learn that Tomcat began
   * stopping it; two proxies under one name would read each other's.
   */
  private static final AtomicInteger ENGINES = new AtomicInteger();

  private final AtomicBoolean stopped = new AtomicBoolean();

  private TomcatProxy(Tomcat tomcat, int port, TomcatLogWatch log) {
    this.tomcat = tomcat;
    this.port = port;
    this.log = log;
  }

  static RunningProxy start(ProxyDeployment deployment) {
    Path base = deployment.workDir().resolve("tomcat");
    createDirectories(base.resolve("webapps"));
    Tomcat tomcat = new LockedOutRealmTomcat();
    tomcat.setBaseDir(base.toString());
    tomcat.getEngine().setName("Tomcat-" + ENGINES.incrementAndGet());
    tomcat.getServer().addLifecycleListener(new JreMemoryLeakPreventionListener());
    tomcat.getServer().addLifecycleListener(new ThreadLocalLeakPreventionListener());
    tomcat.addUser(ProxyServer.ADMIN_USER, ProxyServer.ADMIN_PASSWORD);
    tomcat.addRole(ProxyServer.ADMIN_USER, ProxyServer.ADMIN_ROLE);
    Connector connector = connector(deployment);
    tomcat.setConnector(connector);
    tomcat.getHost().setAppBase(base.resolve("webapps").toString());
    Context context = proxyContext(tomcat, deployment);
    TomcatLogWatch log = TomcatLogWatch.start();
    try {
      tomcat.start();
    } catch (LifecycleException e) {
      destroyQuietly(tomcat, log);
      throw new IllegalStateException("the proxy WAR did not start in Tomcat", e);
    }
    // Tomcat logs a context that fails to start and serves 404 for it; a test must fail instead.
    if (context.getState() != LifecycleState.STARTED || connector.getState() != LifecycleState.STARTED) {
      destroyQuietly(tomcat, log);
      throw new IllegalStateException(
          "the proxy WAR did not start in Tomcat (context " + context.getState() + ", connector "
              + connector.getState() + "); see the log above");
    }
    return new TomcatProxy(tomcat, connector.getLocalPort(), log);
  }

  /** server.xml's plain HTTP connector with the test's address, port and options on top. */
  private static Connector connector(ProxyDeployment deployment) {
    Map<String, String> attributes = TomcatConf.httpConnector();
    Connector connector = new Connector(attributes.getOrDefault("protocol", "HTTP/1.1"));
    attributes.remove("protocol");
    ProxyServer.Options options = deployment.options();
    attributes.put("address", options.host());
    attributes.put("port", Integer.toString(deployment.port()));
    if (options.idleTimeout() != null) {
      // Jetty's one idle timeout is two settings here: for the request head, and between requests.
      String millis = Long.toString(options.idleTimeout().toMillis());
      attributes.put("connectionTimeout", millis);
      attributes.put("keepAliveTimeout", millis);
    }
    if (options.maxThreads() > 0) {
      // Started at once and kept, as the Jetty harness does, so thread counts are the proxy's own.
      attributes.put("maxThreads", Integer.toString(options.maxThreads()));
      attributes.put("minSpareThreads", Integer.toString(options.maxThreads()));
    }
    if (options.acceptQueueSize() > 0) {
      attributes.put("acceptCount", Integer.toString(options.acceptQueueSize()));
    }
    attributes.forEach((name, value) -> {
      // As Tomcat's digester applies them: the connector's setters first, then the protocol's.
      if (!IntrospectionUtils.setProperty(connector, name, value)) {
        throw new IllegalStateException("Tomcat's connector has no attribute " + name + " (tomcat-conf/server.xml)");
      }
    });
    if (options.tls() != null) {
      enableTls(connector, options.tls());
    }
    return connector;
  }

  /** As the HTTPS and mutual-TLS connectors commented in tomcat-conf/server.xml. */
  private static void enableTls(Connector connector, ProxyServer.Tls tls) {
    SSLHostConfig ssl = new SSLHostConfig();
    SSLHostConfigCertificate certificate =
        new SSLHostConfigCertificate(ssl, SSLHostConfigCertificate.Type.UNDEFINED);
    certificate.setCertificateKeystoreFile(tls.keyStore().toAbsolutePath().toString());
    certificate.setCertificateKeystorePassword(tls.keyStorePassword());
    ssl.addCertificate(certificate);
    if (tls.trustStore() != null) {
      ssl.setTruststoreFile(tls.trustStore().toAbsolutePath().toString());
      ssl.setTruststorePassword(tls.trustStorePassword());
    }
    ssl.setCertificateVerification(tls.needClientAuth() ? "required" : "none");
    connector.addSslHostConfig(ssl);
    connector.setProperty("SSLEnabled", "true");
    connector.setScheme("https");
    connector.setSecure(true);
  }

  private static Context proxyContext(Tomcat tomcat, ProxyDeployment deployment) {
    // The distribution's conf/web.xml defaults, without the JSP servlet (no Jasper here).
    tomcat.setAddDefaultWebXmlToWebapp(false);
    ContextConfig config = new ContextConfig();
    config.setDefaultWebXml(tomcat.noDefaultWebXmlPath());
    Context context = tomcat.addWebapp(
        tomcat.getHost(), deployment.options().contextPath(), BuiltArtifacts.explodedProxyWar().toString(), config);
    context.addLifecycleListener(event -> {
      if (Lifecycle.BEFORE_START_EVENT.equals(event.getType())) {
        distributionDefaults(context);
      }
    });
    // As tomcat-conf's context descriptor sets it up (unpackWAR has nothing to do here: the harness
    // deploys the exploded WAR, see BuiltArtifacts.explodedProxyWar).
    TomcatConf.contextDescriptor().forEach((name, value) -> {
      if (!IntrospectionUtils.setProperty(context, name, value)) {
        throw new IllegalStateException("Tomcat's Context has no attribute " + name + " (tomcat-conf/Catalina/localhost)");
      }
    });
    // Like the Jetty harness's temp directory: kept across restarts, a first run's token lives there.
    ((StandardContext) context).setWorkDir(deployment.workDir().resolve("webapp-tmp").toString());
    if (deployment.configFile() != null) {
      // As tomcat-conf's Catalina/localhost/drawbridge.xml passes it.
      context.addParameter(ProxyServer.CONFIG_PARAMETER, deployment.configFile().toAbsolutePath().toString());
    }
    // A servlet that fails to load must fail the test, as the Jetty harness does.
    ((StandardContext) context).setFailCtxIfServletStartFails(true);
    // The distribution's class path holds only Tomcat, so nothing else is scanned there.
    StandardJarScanner scanner = (StandardJarScanner) context.getJarScanner();
    scanner.setScanClassPath(false);
    StandardJarScanFilter filter = new StandardJarScanFilter();
    filter.setTldSkip(TomcatConf.jarsToSkip());
    filter.setPluggabilitySkip(TomcatConf.jarsToSkip());
    scanner.setJarScanFilter(filter);
    return context;
  }

  private static void distributionDefaults(Context context) {
    Wrapper defaultServlet = Tomcat.addServlet(context, "default", "org.apache.catalina.servlets.DefaultServlet");
    defaultServlet.setLoadOnStartup(1);
    defaultServlet.setOverridable(true);
    context.addServletMappingDecoded("/", "default");
    context.setSessionTimeout(30);
    Tomcat.addDefaultMimeTypeMappings(context);
    context.addWelcomeFile("index.html");
    context.addWelcomeFile("index.htm");
    context.addWelcomeFile("index.jsp");
    ((StandardContext) context).setReplaceWelcomeFiles(true);
  }

  @Override
  public int port() {
    return port;
  }

  /**
   * Stops as {@code catalina.sh stop} does: the connector pauses (accepts nothing new, answers new
   * requests on open connections with 503), the WAR stops while open connections stand, then the
   * connector closes them. Fails if Tomcat logged, while it ran the WAR, a warning an operator would
   * have to act on (see {@link TomcatLogWatch}), such as a thread the WAR left running.
   */
  @Override
  public void stop() {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    try (log) {
      tomcat.stop();
      tomcat.destroy();
    } catch (LifecycleException e) {
      throw new IllegalStateException("the proxy did not stop cleanly", e);
    }
    List<String> unexpected = log.unexpected();
    if (!unexpected.isEmpty()) {
      throw new IllegalStateException(
          "Tomcat logged warnings while it ran the proxy WAR (see the log above): " + String.join("; ", unexpected));
    }
  }

  private static void destroyQuietly(Tomcat tomcat, TomcatLogWatch log) {
    try (log) {
      tomcat.stop();
      tomcat.destroy();
    } catch (LifecycleException | RuntimeException ignored) {
      // Already failing to start; the start failure is the one worth reporting.
    }
  }

  private static void createDirectories(Path directory) {
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** tomcat-conf wraps the user realm in a LockOutRealm; so does this server. */
  private static final class LockedOutRealmTomcat extends Tomcat {
    @Override
    protected Realm createDefaultRealm() {
      LockOutRealm lockOut = new LockOutRealm();
      lockOut.addRealm(super.createDefaultRealm());
      return lockOut;
    }
  }
}
