package dev.drawbridge.proxy.web;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.WebConnection;
import java.lang.reflect.Method;
import java.util.concurrent.locks.Lock;
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

  /**
   * Closes {@code connection}; {@code out} is the container's own upgraded output (not a wrapper),
   * through which Tomcat's socket is reached. On Tomcat this runs under the connection's lock, as
   * Tomcat's own threads do, so that none of them is inside the connection meanwhile.
   */
  static void close(WebConnection connection, ServletOutputStream out) {
    Lock lock = TomcatSockets.connectionLock(out);
    if (lock != null) {
      lock.lock();
    }
    try {
      try {
        connection.close();
      } catch (Exception e) {
        LOG.log(Level.FINE, "Closing the client's upgraded connection failed; it is gone already", e);
      }
      closeTomcatSocket(out);
    } finally {
      if (lock != null) {
        lock.unlock();
      }
    }
  }

  private static void closeTomcatSocket(ServletOutputStream out) {
    Object wrapper = TomcatSockets.socketWrapper(out);
    if (wrapper == null) {
      return;
    }
    try {
      Method close = wrapper.getClass().getMethod("close");
      close.invoke(wrapper);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "Could not close Tomcat's socket of an upgraded connection; it closes on the client's next byte", e);
    }
  }
}
