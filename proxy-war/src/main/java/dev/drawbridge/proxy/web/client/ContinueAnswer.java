package dev.drawbridge.proxy.web.client;

import jakarta.servlet.ServletResponse;
import jakarta.servlet.ServletResponseWrapper;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Sends {@code 100 Continue} to a client that asked for it ({@code Expect: 100-continue}) once the
 * proxy has decided to take its body.
 *
 * <p>A client that asks must hear a 413 instead of a 100 when its declared body is too large, so
 * the container may not answer the expectation before the proxy has looked at the request. Jetty
 * and Undertow answer it only when the application first asks for the body, and the proxy's
 * non-blocking read does that. Tomcat answers it before the application runs, unless configured
 * with {@code continueResponseTiming="onRead"} (as tomcat-conf is), and then only on a blocking
 * read, which the proxy never does: a client that waits for the 100 would wait for ever. The
 * Servlet API has no call for the 100, so on Tomcat the proxy asks Tomcat's own response object for
 * it ({@code sendAcknowledgement}, which sends it at most once and never after the response
 * started). Elsewhere this does nothing.
 */
final class ContinueAnswer {

  private static final Logger LOG = Logger.getLogger(ContinueAnswer.class.getName());

  private static final String TOMCAT_FACADE = "org.apache.catalina.connector.ResponseFacade";

  /** Tomcat's acknowledgement, bound to its ALWAYS timing; null when not on Tomcat (or not found). */
  private static volatile MethodHandle tomcatAcknowledgement;

  private static volatile boolean looked;

  private ContinueAnswer() {}

  /** Sends the 100 if {@code clientExpectation} asks for one and the container leaves it to us. */
  static void send(ServletResponse clientResponse, String clientExpectation) {
    if (clientExpectation == null || !clientExpectation.trim().equalsIgnoreCase("100-continue")) {
      return;
    }
    ServletResponse response = clientResponse;
    while (response instanceof ServletResponseWrapper wrapper) {
      response = wrapper.getResponse();
    }
    if (!response.getClass().getName().equals(TOMCAT_FACADE)) {
      return;
    }
    MethodHandle acknowledge = tomcatAcknowledgement(response.getClass());
    if (acknowledge == null) {
      return;
    }
    try {
      acknowledge.invoke(response);
    } catch (Throwable e) {
      // The client gets no 100 and sends its body after its own wait, as it would without this.
      LOG.log(Level.FINE, "Tomcat did not send 100 Continue", e);
    }
  }

  private static MethodHandle tomcatAcknowledgement(Class<?> facade) {
    if (looked) {
      return tomcatAcknowledgement;
    }
    try {
      Field inner = facade.getDeclaredField("response");
      inner.setAccessible(true);
      Class<?> connectorResponse = inner.getType();
      Class<?> timing = Class.forName("org.apache.coyote.ContinueResponseTiming", false, connectorResponse.getClassLoader());
      Object always = timing.getField("ALWAYS").get(null);
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      MethodHandle send =
          lookup.findVirtual(connectorResponse, "sendAcknowledgement", MethodType.methodType(void.class, timing));
      MethodHandle bound = MethodHandles.insertArguments(send, 1, always);
      tomcatAcknowledgement =
          MethodHandles.filterArguments(bound, 0, lookup.unreflectGetter(inner))
              .asType(MethodType.methodType(void.class, Object.class));
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(
          Level.WARNING,
          "This Tomcat offers no way to send 100 Continue; clients that send Expect: 100-continue will wait"
              + " before uploading unless continueResponseTiming is left at its default",
          e);
    }
    looked = true;
    return tomcatAcknowledgement;
  }
}
