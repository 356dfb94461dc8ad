package dev.drawbridge.proxy.web.client;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The exception the client servlet throws to cut a committed response. The Servlet API has no
 * abort: an exception thrown from a dispatch makes the container close the connection without
 * ending the body, so a cut stream never looks complete. Containers log such an exception as a
 * servlet failure, with its stack (Tomcat at SEVERE, twice), except their own exceptions for a
 * client that went away, which they expect and log at debug level. So the cut is made with the
 * container's own type when it has one of those, loaded through the container's class loader,
 * and with {@link ClientServlet.ResponseAbortedException} elsewhere.
 */
final class ResponseCut {

  private static final Logger LOG = Logger.getLogger(ResponseCut.class.getName());

  /**
   * Types a container treats as a client that went away, each with a (String) constructor: Tomcat
   * 10.1 and 11 log BadRequestException and its subclasses at debug level (StandardWrapperValve,
   * ApplicationDispatcher); Jetty 12 logs QuietExceptions such as EofException at debug level.
   */
  private static final List<String> QUIET_TYPES =
      List.of("org.apache.catalina.connector.ClientAbortException", "org.eclipse.jetty.io.EofException");

  /** The container's class loader and what was found in it, looked up once. */
  private static volatile Found found;

  private record Found(ClassLoader loader, Constructor<? extends IOException> quiet) {}

  private ResponseCut() {}

  /** The exception to throw from the client servlet to cut the response of {@code request}. */
  static IOException exception(ServletRequest request, String reason) {
    String message = "Drawbridge cut the client's response: " + reason;
    Constructor<? extends IOException> quiet = quietType(containerLoader(request));
    if (quiet != null) {
      try {
        return quiet.newInstance(message);
      } catch (ReflectiveOperationException | RuntimeException e) {
        LOG.log(Level.FINE, "Could not create the container's quiet abort; using our own", e);
      }
    }
    return new ClientServlet.ResponseAbortedException(reason);
  }

  /** The class loader of the container's own request object, under any wrappers. */
  private static ClassLoader containerLoader(ServletRequest request) {
    ServletRequest inner = request;
    while (inner instanceof ServletRequestWrapper wrapper) {
      inner = wrapper.getRequest();
    }
    return inner.getClass().getClassLoader();
  }

  private static Constructor<? extends IOException> quietType(ClassLoader loader) {
    Found known = found;
    if (known != null && known.loader() == loader) {
      return known.quiet();
    }
    Constructor<? extends IOException> quiet = null;
    for (String name : QUIET_TYPES) {
      quiet = constructor(loader, name);
      if (quiet != null) {
        break;
      }
    }
    found = new Found(loader, quiet);
    return quiet;
  }

  private static Constructor<? extends IOException> constructor(ClassLoader loader, String name) {
    if (loader == null) {
      return null;
    }
    try {
      Class<?> type = Class.forName(name, false, loader);
      if (!IOException.class.isAssignableFrom(type)) {
        return null;
      }
      return type.asSubclass(IOException.class).getConstructor(String.class);
    } catch (ClassNotFoundException | NoSuchMethodException | LinkageError | SecurityException e) {
      return null;
    }
  }
}
