package dev.drawbridge.proxy.web.client;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.locks.Lock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Tomcat's socket wrapper behind a client's upgraded stream, for the two things the Servlet API
 * does not give an upgraded connection on Tomcat (10.1 and 11): closing it now, and reading it
 * safely from a thread of our own. On other containers (or a Tomcat without the wrapper) each
 * method does nothing.
 *
 * <p>Reading: after every read event of an upgraded connection, Tomcat registers read interest
 * again, and the next event's thread first fills the socket's read buffer (in {@code
 * isReadyForRead}) before it calls the read listener; it holds the connection's processing lock
 * while it does, but the upgraded input stream itself takes no lock. A lane reading that stream at
 * the same moment therefore shares the buffer with the container thread, and bytes come out
 * repeated, lost or out of order (a WebSocket backend then sees an unknown opcode). Holding the
 * same lock for each read makes the two take turns.
 */
final class TomcatSocket {

  private static final Logger LOG = Logger.getLogger(TomcatSocket.class.getName());

  private TomcatSocket() {}

  /** The lock Tomcat's container threads hold while they process {@code stream}'s connection, or null. */
  static Lock processingLock(Object stream) {
    Object wrapper = wrapper(stream);
    if (wrapper == null) {
      return null;
    }
    try {
      Method getLock = wrapper.getClass().getMethod("getLock");
      Object lock = getLock.invoke(wrapper);
      return lock instanceof Lock ? (Lock) lock : null;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "Tomcat's socket has no processing lock here; the upgraded input is read unguarded", e);
      return null;
    }
  }

  /** Closes the socket behind {@code stream} at once; false where there is none to close. */
  static boolean close(Object stream) {
    Object wrapper = wrapper(stream);
    if (wrapper == null) {
      return false;
    }
    try {
      Method close = wrapper.getClass().getMethod("close");
      close.invoke(wrapper);
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "Could not close Tomcat's socket of an upgraded connection; it closes on the client's next byte", e);
      return false;
    }
  }

  /** Tomcat's socket wrapper that {@code stream} holds, or null on any other container. */
  private static Object wrapper(Object stream) {
    if (stream == null || !stream.getClass().getName().startsWith("org.apache.coyote.")) {
      return null;
    }
    try {
      Field wrapperField = field(stream.getClass(), "socketWrapper");
      if (wrapperField == null) {
        return null;
      }
      wrapperField.setAccessible(true);
      return wrapperField.get(stream);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "Tomcat's socket wrapper is out of reach in this version", e);
      return null;
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
