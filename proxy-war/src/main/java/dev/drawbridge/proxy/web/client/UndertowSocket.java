package dev.drawbridge.proxy.web.client;

import java.lang.reflect.Field;
import java.util.concurrent.Executor;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The I/O thread behind a client's upgraded input on Undertow (WildFly), the one thread that may
 * read it. On other containers (or an Undertow without it) {@link #ioThread} answers null.
 *
 * <p>Undertow's upgraded input stream keeps its read buffer and its flags in plain fields and
 * expects them to be used by one thread at a time. Its I/O thread, on each read event, marks the
 * stream ready first and only then takes a pooled buffer and fills it from the socket; a read
 * from any other thread at that moment takes the buffer half-filled (bytes out of nowhere), or
 * empties it just before the I/O thread flips it, which then fails on the I/O thread and closes
 * the connection (the relay saw its client "close" in the middle of a message). The Servlet API
 * offers no way to be called back on that thread once our side can take more bytes again, so the
 * relay hands each read to this executor, which runs it on the connection's I/O thread.
 */
final class UndertowSocket {

  private static final Logger LOG = Logger.getLogger(UndertowSocket.class.getName());

  private static final String UPGRADED_INPUT = "io.undertow.servlet.spec.UpgradeServletInputStream";

  private UndertowSocket() {}

  /** Runs tasks on the I/O thread of {@code in}'s connection; null on any other container. */
  static Executor ioThread(Object in) {
    if (in == null || !UPGRADED_INPUT.equals(in.getClass().getName())) {
      return null;
    }
    try {
      Field executor = in.getClass().getDeclaredField("ioExecutor");
      executor.setAccessible(true);
      Object value = executor.get(in);
      return value instanceof Executor ? (Executor) value : null;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.WARNING, "Undertow's I/O thread of an upgraded connection is out of reach in this version;"
          + " its bytes are read from the proxy's own threads, which Undertow does not support", e);
      return null;
    }
  }
}
