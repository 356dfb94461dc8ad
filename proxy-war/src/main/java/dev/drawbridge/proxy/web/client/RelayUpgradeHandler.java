package dev.drawbridge.proxy.web.client;

import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.WebConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The client's connection after it switched protocols. The container creates this handler in
 * {@code HttpServletRequest.upgrade} and calls {@link #init} once the 101 went out; the request
 * thread {@link #attach attaches} the relay right after {@code upgrade} returns. Either may come
 * first, so whichever comes second starts the relay. Public with a no-argument constructor, as
 * containers instantiate it themselves.
 */
public final class RelayUpgradeHandler implements HttpUpgradeHandler {

  private static final Logger LOG = Logger.getLogger(RelayUpgradeHandler.class.getName());

  private UpgradeRelay relay;
  private WebConnection connection;

  void attach(UpgradeRelay upgradeRelay) {
    WebConnection ready;
    synchronized (this) {
      relay = upgradeRelay;
      ready = connection;
    }
    if (ready != null) {
      start(upgradeRelay, ready);
    }
  }

  @Override
  public void init(WebConnection webConnection) {
    UpgradeRelay ready;
    synchronized (this) {
      connection = webConnection;
      ready = relay;
    }
    if (ready != null) {
      start(ready, webConnection);
    }
  }

  private static void start(UpgradeRelay relay, WebConnection webConnection) {
    try {
      relay.clientUpgraded(webConnection);
    } catch (IOException e) {
      relay.exchange().clientGone("The client's upgraded connection could not be read: " + e);
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void destroy() {
    UpgradeRelay ready;
    synchronized (this) {
      ready = relay;
    }
    if (ready != null) {
      LOG.log(Level.FINE, () -> ready.exchange() + ": the container closed the client's upgraded connection");
      ready.clientClosedByContainer();
    }
  }
}
