package dev.drawbridge.proxy.web.client;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.WebConnection;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Closes a client's upgraded connection so that the client sees it end now.
 *
 * <p>{@link WebConnection#close()} is enough on Jetty and Undertow. Tomcat (10.1 and 11) only
 * marks both streams closed there: its {@code UpgradeProcessorExternal} closes the socket on the
 * connection's next read or write event, and an upgraded connection has no timeout of its own, so
 * a client that waits for the other side would wait forever. Tomcat's own WebSocket code closes
 * the socket wrapper directly; without that API, {@link TomcatSocket} reaches the wrapper the
 * upgraded output stream holds.
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
    TomcatSocket.close(out);
  }
}
