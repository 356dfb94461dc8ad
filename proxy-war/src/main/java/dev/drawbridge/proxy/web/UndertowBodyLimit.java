package dev.drawbridge.proxy.web;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import java.lang.reflect.Method;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Lifts Undertow's (WildFly's) request body limit for a request whose body the proxy limits itself.
 * WildFly's listeners cut every request body longer than {@code max-post-size} (10 MiB by
 * default), streamed or not, whereas Tomcat and Jetty limit only form parameters. The proxy has
 * limits of its own: {@code maxRequestBodyBytes} for a client's body (413 when over, counted as
 * the body streams), and none for an agent's response call, which carries a whole response, or
 * everything an upgraded connection's service sends for as long as it stays open. The Servlet API
 * has no per-request limit; Undertow's exchange has one, set here before the body is read. On
 * other containers this does nothing.
 */
public final class UndertowBodyLimit {

  private static final Logger LOG = Logger.getLogger(UndertowBodyLimit.class.getName());

  private static final String UNDERTOW_REQUEST = "io.undertow.servlet.spec.HttpServletRequestImpl";

  /** Undertow's two methods, found on the first request that needs them. */
  private static volatile Method getExchange;
  private static volatile Method setMaxEntitySize;

  private UndertowBodyLimit() {}

  /** No container limit on {@code request}'s body, which must not have been read yet. */
  public static void lift(ServletRequest request) {
    ServletRequest unwrapped = request;
    while (unwrapped instanceof ServletRequestWrapper wrapper) {
      unwrapped = wrapper.getRequest();
    }
    if (!UNDERTOW_REQUEST.equals(unwrapped.getClass().getName())) {
      return;
    }
    try {
      Method exchangeOf = getExchange;
      if (exchangeOf == null) {
        exchangeOf = unwrapped.getClass().getMethod("getExchange");
        getExchange = exchangeOf;
      }
      Object exchange = exchangeOf.invoke(unwrapped);
      Method limit = setMaxEntitySize;
      if (limit == null) {
        limit = exchange.getClass().getMethod("setMaxEntitySize", long.class);
        setMaxEntitySize = limit;
      }
      // Zero or less is no limit in Undertow.
      limit.invoke(exchange, 0L);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.WARNING, "Could not lift WildFly's max-post-size for a request; bodies longer than the"
          + " listener's max-post-size will be cut unless it is 0", e);
    }
  }
}
