package dev.drawbridge.proxy.web;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Lock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Reaches Tomcat's socket wrapper behind an upgraded connection's stream, for the two things the
 * Servlet API does not offer there: closing the socket now ({@link UpgradedClose}) and the lock
 * Tomcat holds while it runs the connection ({@link LockedClientStreams}). Tomcat 10.1 and 11 keep
 * the wrapper in the upgraded streams' {@code socketWrapper} field; anything else gets null.
 */
final class TomcatSockets {

  private static final Logger LOG = Logger.getLogger(TomcatSockets.class.getName());

  /** Said once per application: each upgraded connection would find the same. */
  private static final AtomicBoolean lockWarned = new AtomicBoolean();

  private TomcatSockets() {}

  /** True for a stream of Tomcat's connector, whose socket wrapper the methods below reach. */
  static boolean isTomcat(Object stream) {
    return stream != null && stream.getClass().getName().startsWith("org.apache.coyote.");
  }

  /** Tomcat's socket wrapper behind {@code stream}, or null where there is none. */
  static Object socketWrapper(Object stream) {
    if (!isTomcat(stream)) {
      return null;
    }
    try {
      Field wrapperField = field(stream.getClass(), "socketWrapper");
      if (wrapperField == null || !wrapperField.trySetAccessible()) {
        return null;
      }
      return wrapperField.get(stream);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "Could not reach Tomcat's socket of an upgraded connection", e);
      return null;
    }
  }

  /**
   * The lock Tomcat's threads hold while they run the connection behind {@code stream} (its
   * {@code SocketWrapperBase.getLock()}), or null for another container. Null on a Tomcat without
   * it too, which is logged, since the lane then reads beside Tomcat's own threads.
   */
  static Lock connectionLock(Object stream) {
    Object wrapper = socketWrapper(stream);
    if (wrapper == null) {
      if (isTomcat(stream)) {
        lockNotFound();
      }
      return null;
    }
    try {
      Method getLock = wrapper.getClass().getMethod("getLock");
      if (getLock.trySetAccessible() && getLock.invoke(wrapper) instanceof Lock lock) {
        return lock;
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "Tomcat's socket wrapper has no usable getLock()", e);
    }
    lockNotFound();
    return null;
  }

  private static void lockNotFound() {
    if (lockWarned.compareAndSet(false, true)) {
      LOG.warning("Tomcat's connection lock of upgraded connections was not found, so a fast WebSocket client may"
          + " lose bytes on this Tomcat version; run the proxy on Tomcat 10.1 or 11.");
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
