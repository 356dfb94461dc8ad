package dev.drawbridge.proxy.web;

import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.auth.AgentTokens;
import dev.drawbridge.proxy.config.BackendSettings;
import dev.drawbridge.proxy.config.ConfigException;
import dev.drawbridge.proxy.config.ConfigLoader;
import dev.drawbridge.proxy.config.ConfigReloader;
import dev.drawbridge.proxy.config.ConfigWatcher;
import dev.drawbridge.proxy.config.ProxySettings;
import dev.drawbridge.proxy.exchange.Tunnel;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.StringJoiner;
import java.util.logging.Logger;

/**
 * Starts the tunnel when the WAR is deployed, watches its configuration file while it runs, and
 * drains it when it is undeployed.
 */
public class DrawbridgeListener implements ServletContextListener {

  private static final Logger LOG = Logger.getLogger(DrawbridgeListener.class.getName());

  /** Servlet context attribute holding the {@link ConfigWatcher}, when there is a file to watch. */
  private static final String WATCHER_ATTRIBUTE = ConfigWatcher.class.getName();

  /** File, in the web application's temporary directory, holding a first run's agent token. */
  static final String TOKEN_FILE = "drawbridge-agent.token";

  @Override
  public void contextInitialized(ServletContextEvent event) {
    ServletContext context = event.getServletContext();
    ConfigReloader reloader;
    try {
      reloader = loadSettings(context);
    } catch (ConfigException e) {
      LOG.severe("Drawbridge did not start: " + e.getMessage());
      // Also in the container's own log (catalina.log, server.log), which operators read first
      // and where the exception below shows up only as a stack trace.
      context.log("Drawbridge did not start: " + e.getMessage());
      throw new IllegalStateException("Drawbridge did not start: " + e.getMessage());
    }
    context.setAttribute(Responses.HANDOFF_ATTRIBUTE, Handoff.forThisMachine());
    ProxySettings settings = reloader.current();
    Tunnel tunnel = new Tunnel(settings);
    TomcatContextState tomcatState = TomcatContextState.of(context);
    if (tomcatState != null) {
      tunnel.drainWhenContainerStops(tomcatState);
      LOG.fine(() -> "The drain begins as soon as Tomcat begins stopping " + tomcatState);
    }
    reloader.onApply(tunnel::apply);
    context.setAttribute(Responses.TUNNEL_ATTRIBUTE, tunnel);
    context.setAttribute(Responses.RELOADER_ATTRIBUTE, reloader);
    ConfigWatcher watcher = ConfigWatcher.start(reloader);
    if (watcher != null) {
      context.setAttribute(WATCHER_ATTRIBUTE, watcher);
    }
    StringJoiner backends = new StringJoiner(", ");
    for (BackendSettings backend : settings.backends().values()) {
      backends.add(backend.id() + " (" + backend.agentTokenSha256().size() + " agent token(s))");
    }
    StringJoiner routes = new StringJoiner(", ");
    for (dev.drawbridge.proxy.config.RouteSettings route : settings.routes()) {
      routes.add(
          (route.host() == null ? "any host" : route.host())
              + (route.pathPrefix() == null ? "" : " " + route.pathPrefix())
              + " -> "
              + route.backend());
    }
    String base = context.getContextPath();
    LOG.info(
        "Drawbridge proxy "
            + Protocol.SOFTWARE_VERSION
            + " started at "
            + (base.isEmpty() ? "/" : base)
            + ": backends "
            + backends
            + "; routes "
            + (settings.routes().isEmpty() ? "none (every request goes to the first backend)" : routes.toString())
            + "; agent API at "
            + base
            + Protocol.AGENT_BASE
            + " (protocol "
            + Protocol.VERSION
            + "); health at "
            + base
            + Protocol.RESERVED_PREFIX
            + "/health"
            + (watcher == null ? "" : "; configuration changes to " + reloader.file() + " apply without a restart"));
  }

  @Override
  public void contextDestroyed(ServletContextEvent event) {
    ServletContext context = event.getServletContext();
    // First: no reload may start while the tunnel drains.
    if (context.getAttribute(WATCHER_ATTRIBUTE) instanceof ConfigWatcher watcher) {
      watcher.close();
      context.removeAttribute(WATCHER_ATTRIBUTE);
    }
    context.removeAttribute(Responses.RELOADER_ATTRIBUTE);
    Object tunnel = context.getAttribute(Responses.TUNNEL_ATTRIBUTE);
    if (tunnel instanceof Tunnel running) {
      running.close();
      context.removeAttribute(Responses.TUNNEL_ATTRIBUTE);
    }
    // Last: the drain above hands its answers to these threads.
    Object handoff = context.getAttribute(Responses.HANDOFF_ATTRIBUTE);
    if (handoff instanceof Handoff threads) {
      threads.close();
      context.removeAttribute(Responses.HANDOFF_ATTRIBUTE);
    }
    if (tunnel instanceof Tunnel) {
      LOG.info("Drawbridge proxy stopped");
    }
  }

  private static ConfigReloader loadSettings(ServletContext context) throws ConfigException {
    Path file = ConfigLoader.locate(context.getInitParameter(ConfigLoader.CONFIG_PROPERTY));
    if (file != null) {
      LOG.info("Drawbridge reads its configuration from " + file);
      return ConfigReloader.load(file, Clock.systemUTC());
    }
    File tempDir = (File) context.getAttribute(ServletContext.TEMPDIR);
    Path tokenFile = tempDir.toPath().resolve(TOKEN_FILE);
    String token = firstRunToken(tokenFile);
    // The token itself is never logged: logs are often shipped to shared systems, and whoever
    // reads it could serve the backend. The operator reads it from the file, readable only by the
    // container's user.
    LOG.warning(
        "No configuration file is set (context parameter or system property "
            + ConfigLoader.CONFIG_PROPERTY
            + ", or environment variable "
            + ConfigLoader.CONFIG_ENV
            + "); serving backend '"
            + ConfigLoader.DEFAULT_BACKEND
            + "' with the generated agent token in "
            + tokenFile
            + ": give that file to the agent with --token-file.");
    return ConfigReloader.fixed(ConfigLoader.firstRun(AgentTokens.sha256(token)), Clock.systemUTC());
  }

  /** The token kept from an earlier first run, or a new one written for the next. */
  private static String firstRunToken(Path tokenFile) throws ConfigException {
    try {
      if (Files.isRegularFile(tokenFile)) {
        String kept = Files.readString(tokenFile, StandardCharsets.UTF_8).trim();
        if (!kept.isEmpty()) {
          return kept;
        }
      }
      String token = AgentTokens.generate();
      Files.createDirectories(tokenFile.getParent());
      Files.writeString(tokenFile, token + "\n", StandardCharsets.UTF_8);
      try {
        Files.setPosixFilePermissions(tokenFile, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException e) {
        // Not a POSIX file system; the container's temp directory permissions apply.
      }
      return token;
    } catch (IOException e) {
      throw new ConfigException(tokenFile + ": cannot keep the generated agent token (" + e + ")");
    }
  }
}
