package dev.drawbridge.proxy.web.client;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.http.HttpServletRequest;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * How many request threads the container has for the connector a request came in on, where the
 * container tells: Tomcat through the {@code ThreadPool} management bean of each connector (its
 * {@code maxThreads}), Undertow (WildFly) through the XNIO worker that dispatches its servlets
 * (WildFly's {@code task-max-threads}, 16 per core by default). Jetty and containers without
 * either answer {@link #UNKNOWN}. Read once per local port: pools do not change while they run.
 */
final class ContainerThreads {

  private static final Logger LOG = Logger.getLogger(ContainerThreads.class.getName());

  /** The answer where the container does not tell. */
  static final int UNKNOWN = -1;

  private static final String UNDERTOW_REQUEST = "io.undertow.servlet.spec.HttpServletRequestImpl";

  private final Map<Integer, Integer> byLocalPort = new ConcurrentHashMap<>();

  /** The request threads of the connector serving {@code request}, or {@link #UNKNOWN}. */
  int of(HttpServletRequest request) {
    return byLocalPort.computeIfAbsent(request.getLocalPort(), port -> read(request, port));
  }

  private static int read(HttpServletRequest request, int port) {
    ServletRequest unwrapped = request;
    while (unwrapped instanceof ServletRequestWrapper wrapper) {
      unwrapped = wrapper.getRequest();
    }
    if (UNDERTOW_REQUEST.equals(unwrapped.getClass().getName())) {
      return undertowWorkerThreads(unwrapped);
    }
    return tomcatConnectorThreads(request.getServletContext().getVirtualServerName(), port);
  }

  /** The task threads of the XNIO worker behind an Undertow request. */
  private static int undertowWorkerThreads(ServletRequest request) {
    try {
      Object exchange = call(request, "getExchange");
      Object worker = call(call(exchange, "getConnection"), "getWorker");
      Object threads = call(call(worker, "getMXBean"), "getMaxWorkerPoolSize");
      return threads instanceof Integer count && count > 0 ? count : UNKNOWN;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "Undertow's worker threads are out of reach in this version", e);
      return UNKNOWN;
    }
  }

  private static Object call(Object target, String method) throws ReflectiveOperationException {
    Method found = target.getClass().getMethod(method);
    found.trySetAccessible();
    return found.invoke(target);
  }

  /**
   * The {@code maxThreads} of the Tomcat connector on {@code port}, from its {@code ThreadPool}
   * bean, named {@code "http-nio-<port>"} or {@code "http-nio-<address>-<port>"} in the engine's
   * domain (the first part of the virtual server name, {@code Catalina/localhost}).
   */
  private static int tomcatConnectorThreads(String virtualServer, int port) {
    int slash = virtualServer == null ? -1 : virtualServer.indexOf('/');
    if (slash <= 0) {
      return UNKNOWN;
    }
    try {
      MBeanServer server = ManagementFactory.getPlatformMBeanServer();
      String suffix = "-" + port + "\"";
      for (ObjectName pool : server.queryNames(new ObjectName(virtualServer.substring(0, slash) + ":type=ThreadPool,*"), null)) {
        String name = pool.getKeyProperty("name");
        if (name != null && name.endsWith(suffix) && server.getAttribute(pool, "maxThreads") instanceof Integer count && count > 0) {
          return count;
        }
      }
    } catch (JMException | RuntimeException e) {
      LOG.log(Level.FINE, "No Tomcat thread pool to read for port " + port, e);
    }
    return UNKNOWN;
  }

  /**
   * The most handshakes that may wait at once: {@code configured}, but at most half the
   * container's request threads when they are known, so the agents' own calls, which need a
   * request thread each to reach the proxy, always find one. With every thread waiting for a
   * handshake's answer, the answer could never arrive.
   */
  static int handshakeLimit(int configured, int requestThreads) {
    if (requestThreads == UNKNOWN) {
      return configured;
    }
    return Math.max(1, Math.min(configured, requestThreads / 2));
  }
}
