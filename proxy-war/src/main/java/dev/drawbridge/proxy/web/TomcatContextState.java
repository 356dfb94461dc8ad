package dev.drawbridge.proxy.web;

import jakarta.servlet.ServletContext;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Tells whether Tomcat began stopping this web application, read from the management bean Tomcat
 * registers for every context ({@code <engine>:j2eeType=WebModule,name=//<host><path>,...}),
 * whose {@code stateName} leaves {@code STARTED} the moment an undeploy, a reload or a shutdown
 * begins. Tomcat tells the application itself only later, after it waited up to the context's
 * {@code unloadDelay} for asynchronous requests to end; knowing at once lets the proxy drain
 * during that wait, so responses still streaming get the drain grace instead of being timed out
 * by Tomcat.
 *
 * <p>Only public management interfaces are used: on another container, or a Tomcat without its
 * management beans, {@link #of} finds nothing and the drain begins when the application is told.
 */
final class TomcatContextState implements BooleanSupplier {

  private static final Logger LOG = Logger.getLogger(TomcatContextState.class.getName());

  /** Tomcat's lifecycle states from the beginning of a stop on. */
  private static final List<String> STOPPING =
      List.of("STOPPING_PREP", "STOPPING", "STOPPED", "DESTROYING", "DESTROYED", "FAILED");

  /** Tomcat's lifecycle states while it starts a context, when the application is told. */
  private static final List<String> STARTING = List.of("STARTING_PREP", "STARTING");

  private final MBeanServer server;
  private final ObjectName context;

  private TomcatContextState(MBeanServer server, ObjectName context) {
    this.server = server;
    this.context = context;
  }

  /**
   * The state of {@code servletContext}'s Tomcat context, or null where there is none to read.
   * Called while the application starts: of the beans that may match (parallel deployments of
   * one path), the one starting now is this application's; with two starting at once, neither.
   */
  static TomcatContextState of(ServletContext servletContext) {
    String virtualServer = servletContext.getVirtualServerName();
    int slash = virtualServer == null ? -1 : virtualServer.indexOf('/');
    if (slash <= 0) {
      return null;
    }
    String engine = virtualServer.substring(0, slash);
    String host = virtualServer.substring(slash + 1);
    String path = servletContext.getContextPath().isEmpty() ? "/" : servletContext.getContextPath();
    String name = "//" + host + path;
    try {
      MBeanServer server = ManagementFactory.getPlatformMBeanServer();
      Set<ObjectName> modules = server.queryNames(new ObjectName(engine + ":j2eeType=WebModule,*"), null);
      TomcatContextState found = null;
      for (ObjectName module : modules) {
        String moduleName = module.getKeyProperty("name");
        if (moduleName == null || !(moduleName.equals(name) || moduleName.startsWith(name + "##"))) {
          continue;
        }
        TomcatContextState candidate = new TomcatContextState(server, module);
        if (STARTING.contains(candidate.stateName())) {
          if (found != null) {
            return null;
          }
          found = candidate;
        }
      }
      return found;
    } catch (JMException | RuntimeException e) {
      LOG.log(Level.FINE, "No Tomcat context state to read for " + virtualServer + path, e);
      return null;
    }
  }

  /** True once Tomcat began stopping the context; false while it runs, or if its bean is gone. */
  @Override
  public boolean getAsBoolean() {
    String state = stateName();
    return state != null && STOPPING.contains(state);
  }

  /** What the context's bean reports now, or null when it cannot be read. */
  private String stateName() {
    try {
      return server.getAttribute(context, "stateName") instanceof String state ? state : null;
    } catch (JMException | RuntimeException e) {
      return null;
    }
  }

  @Override
  public String toString() {
    return context.toString();
  }
}
