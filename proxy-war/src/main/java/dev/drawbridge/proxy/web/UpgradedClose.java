package dev.drawbridge.proxy.web;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.WebConnection;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Closes a client's upgraded connection so that the client sees it end now.
 *
 * <p>{@link WebConnection#close()} is enough on Jetty and Undertow. Tomcat (10.1 and 11) only
 * marks both streams closed there: its {@code UpgradeProcessorExternal} closes the socket on the
 * connection's next read or write event, and an upgraded connection has no timeout of its own, so
 * a client that waits for the other side would wait forever. Tomcat's own WebSocket code closes
 * the socket wrapper directly; without that API, this reaches the wrapper the upgraded output
 * stream holds, and does nothing where there is none.
 */
final class UpgradedClose {

  private static final Logger LOG = Logger.getLogger(UpgradedClose.class.getName());

  private UpgradedClose() {}

  static void close(WebConnection connection, ServletOutputStream out) {
    try {
      connection.close();
    } catch (Exception e) {
      LOG.log(Level.FINE, "Closing the client's upgraded connection failed; it is gone already", e);
    }
    if (out != null && out.getClass().getName().startsWith("org.apache.coyote.")) {
      closeTomcatSocket(out);
    }
  }

  private static void closeTomcatSocket(ServletOutputStream out) {
    try {
      Field wrapperField = field(out.getClass(), "socketWrapper");
      if (wrapperField == null) {
        return;
      }
      wrapperField.setAccessible(true);
      Object wrapper = wrapperField.get(out);
      if (wrapper != null) {
        Method close = wrapper.getClass().getMethod("close");
        close.invoke(wrapper);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "Could not close Tomcat's socket of an upgraded connection; it closes on the client's next byte", e);
    }
  }

  private static Field field(Class<?> type, String name) {
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      try {
        return c.getDeclaredField(name);
      } catch (NoSuchFieldException e) {
        // Look further up.
      }
    }
    return null;
  }
}
