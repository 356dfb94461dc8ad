package dev.drawbridge.it.support;

import java.util.List;
import java.util.Locale;

/**
 * The servlet containers the end-to-end suite runs the proxy WAR in, and which one this run uses.
 * The build runs the whole suite once per container (see the failsafe executions in the pom); a
 * single run picks one with {@code -D}{@value #PROPERTY}{@code =jetty|tomcat}, Jetty by default.
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
        "--add-opens=java.rmi/sun.rmi.transport=ALL-UNNAMED"));

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
}
