package dev.drawbridge.proxy.web.agent;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import java.lang.reflect.Method;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Lifts Undertow's (WildFly's) request body limit for one agent call. WildFly's listeners cut
 * every request body longer than {@code max-post-size} (10 MiB by default), streamed or not,
 * whereas Tomcat and Jetty limit only form parameters. An agent's response call carries a whole
 * response, and an upgraded connection's response call everything its service sends for as long
 * as it stays open, so with the limit in place downloads and WebSockets would end after 10 MiB.
 * The Servlet API has no per-request limit; Undertow's exchange has one, set here before the body
 * is read. On other containers this does nothing.
 */
final class UndertowBodyLimit {

  private static final Logger LOG = Logger.getLogger(UndertowBodyLimit.class.getName());

  private static final String UNDERTOW_REQUEST = "io.undertow.servlet.spec.HttpServletRequestImpl";

  private UndertowBodyLimit() {}

  /** No limit on {@code agentRequest}'s body, which must not have been read yet. */
  static void lift(ServletRequest agentRequest) {
    ServletRequest request = agentRequest;
    while (request instanceof ServletRequestWrapper wrapper) {
      request = wrapper.getRequest();
    }
    if (!UNDERTOW_REQUEST.equals(request.getClass().getName())) {
      return;
    }
    try {
      Object exchange = request.getClass().getMethod("getExchange").invoke(request);
      Method setLimit = exchange.getClass().getMethod("setMaxEntitySize", long.class);
      // Zero or less is no limit in Undertow.
      setLimit.invoke(exchange, 0L);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.WARNING, "Could not lift WildFly's max-post-size for an agent call; responses and WebSockets"
          + " longer than it will be cut unless the listener's max-post-size is 0", e);
    }
  }
}
