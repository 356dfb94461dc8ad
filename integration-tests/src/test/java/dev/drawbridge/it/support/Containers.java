package dev.drawbridge.it.support;

import java.util.List;
import java.util.Locale;

/**
 * The servlet containers the end-to-end suite runs the proxy WAR in, which one this run uses, and
 * every way they differ that a test has to know about. The build runs the whole suite once per
 * container (see the failsafe executions in the pom); a single run picks one with {@code
 * -D}{@value #PROPERTY}{@code =jetty|tomcat}, Jetty by default.
 *
 * <p>A test never asks which container it runs in; it asks one of the questions below, each of which
 * gives the reason for the difference. docs/deploying.md ("What differs between containers") tells
 * operators the same.
 *
 * <table>
 *   <caption>Differences tests depend on</caption>
 *   <tr><th>difference</th><th>Jetty 12</th><th>Tomcat 11 (tomcat-conf)</th></tr>
 *   <tr><td>{@link #closesConnectionAfter(int)}</td><td>never for a complete response</td>
 *       <td>after 400, 408, 411, 413, 414, 500, 501 and 503</td></tr>
 *   <tr><td>{@link #heapPerHeldRequestKib()}</td><td>about 8 KiB</td><td>about 100 KiB</td></tr>
 *   <tr><td>{@link #heapPerWebSocketKib()}</td><td>about 26 KiB</td><td>about 230 KiB</td></tr>
 *   <tr><td>{@link #adminLockOutAfterFailures()}</td><td>never</td><td>after 5 wrong passwords</td></tr>
 * </table>
 *
 * <p>Differences no test needs to switch on, because the tests accept both: Tomcat writes a {@code
 * Content-Type}'s parameters without spaces ({@code text/plain;version=0.0.4}). Warnings Tomcat logs
 * that are expected, and why, are in {@link TomcatLogWatch}.
 *
 * <p>Every test runs in both containers; none needs a hook only one of them has. Two are skipped on
 * Tomcat for open findings, each with its reason: HighAvailabilityIT (HAProxy's readiness checks)
 * and WebSocketScaleIT's open/close cycle.
 */
public final class Containers {

  /** System property naming the container of this run: {@code jetty} or {@code tomcat}. */
  public static final String PROPERTY = "drawbridge.it.container";

  /** A container that runs the WAR in the test JVM (or in a child JVM, see ForkedProxyServer). */
  public enum Container {
    /** Eclipse Jetty 12 (ee10), the container of the harness since the start. */
    JETTY(List.of()),
    /**
     * Apache Tomcat 11 embedded, with the connector settings of the shipped tomcat-conf. Its JVM
     * options are those catalina.sh passes (the pom's {@code tomcat.jvmOptions} says the same), so
     * the leak detection Tomcat runs when a WAR stops works as in the distribution.
     */
    TOMCAT(List.of(
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
        "--add-opens=java.base/java.io=ALL-UNNAMED",
        "--add-opens=java.base/java.util=ALL-UNNAMED",
        "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
        "--add-opens=java.rmi/sun.rmi.transport=ALL-UNNAMED",
        // Not from catalina.sh: Tomcat's leak warnings in English, as TomcatLeakWatch reads them.
        "-Duser.language=en"));

    private final List<String> jvmOptions;

    Container(List<String> jvmOptions) {
      this.jvmOptions = jvmOptions;
    }

    /** Options a JVM running this container needs, e.g. a forked proxy. */
    public List<String> jvmOptions() {
      return jvmOptions;
    }

    /** Lower-case name, as in the property and the test reports. */
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private Containers() {}

  /** The container this run uses. */
  public static Container current() {
    String value = System.getProperty(PROPERTY, "jetty").trim().toLowerCase(Locale.ROOT);
    return switch (value) {
      case "jetty", "" -> Container.JETTY;
      case "tomcat" -> Container.TOMCAT;
      default -> throw new IllegalStateException(
          PROPERTY + "=" + value + " names no embedded container; use jetty or tomcat");
    };
  }

  public static boolean isTomcat() {
    return current() == Container.TOMCAT;
  }

  public static boolean isJetty() {
    return current() == Container.JETTY;
  }

  /**
   * Whether the container closes the client's connection after a complete response with this
   * status, even one the backend chose. Tomcat does so for 400, 408, 411, 413, 414, 500, 501 and
   * 503, with {@code Connection: close}, following Apache httpd (Tomcat's {@code
   * Http11Processor.statusDropsConnection}); Jetty keeps the connection for the next request.
   */
  public static boolean closesConnectionAfter(int status) {
    return isTomcat()
        && (status == 400 || status == 408 || status == 411 || status == 413 || status == 414
            || status == 500 || status == 501 || status == 503);
  }

  /**
   * Heap, in KiB, that each client request the proxy holds waiting costs in this container, the
   * proxy's own share included, with room to spare. Tomcat keeps a request's connector buffers for
   * as long as it is held: the socket's read and write buffers (8 KiB each), the request head's
   * buffers, and the servlet request's and response's byte and char buffers (8 Ki entries each);
   * measured about 100 KiB. Jetty holds a waiting request in about 8 KiB.
   */
  public static int heapPerHeldRequestKib() {
    return isTomcat() ? 120 : 16;
  }

  /**
   * Heap, in KiB, that each open WebSocket costs the proxy in this container, with room to spare.
   * A WebSocket holds the client's upgraded connection and two agent calls, and Tomcat keeps each
   * held call's connector buffers ({@link #heapPerHeldRequestKib}): measured about 230 KiB per
   * WebSocket on Tomcat (1,000 open: 243 MiB after a full collection, 14 MiB with none). Jetty
   * holds one in about 26 KiB (its read buffers are direct, outside the heap).
   */
  public static int heapPerWebSocketKib() {
    return isTomcat() ? 240 : 32;
  }

  /**
   * Wrong passwords in a row after which the container's realm refuses a user even with the right
   * password, or 0 if it never does. tomcat-conf wraps the users in Tomcat's {@code LockOutRealm},
   * whose default is 5 failures and a lock of 5 minutes, against password guessing; the Jetty harness
   * has a plain realm, as a Jetty deployment without such a module would.
   */
  public static int adminLockOutAfterFailures() {
    return isTomcat() ? 5 : 0;
  }
}
