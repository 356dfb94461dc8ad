package dev.drawbridge.it.container;

import dev.drawbridge.it.support.ProxyConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The real container a failsafe execution started through Arquillian (see the pom): which kind it
 * is, where it lives, and where an operator would put the proxy's config, its admin users and read
 * its logs. Everything here is what docs/deploying.md tells operators to do, done by the test.
 *
 * @param kind {@code tomcat} (10.1 or 11) or {@code wildfly}
 * @param home the unpacked distribution ({@code CATALINA_HOME} or {@code JBOSS_HOME})
 * @param httpPort the HTTP port the build reserved for it, on 127.0.0.1
 * @param jmxPort the JMX port Arquillian started it with (Tomcat), 0 when the build set none
 */
record ServerUnderTest(String kind, Path home, int httpPort, int jmxPort) {

  /** Set by the container executions of the pom; the scenario is skipped without it. */
  static final String KIND_PROPERTY = "drawbridge.it.container";

  static ServerUnderTest current() {
    return new ServerUnderTest(
        System.getProperty(KIND_PROPERTY),
        Path.of(required("drawbridge.it.containerHome")).toAbsolutePath(),
        Integer.parseInt(required("drawbridge.it.httpPort")),
        Integer.getInteger("drawbridge.it.jmxPort", 0));
  }

  boolean isTomcat() {
    return kind.equals("tomcat");
  }

  /** E.g. {@code http://127.0.0.1:41234/drawbridge}: the WAR's context path is its file name. */
  String proxyBaseUrl() {
    return "http://127.0.0.1:" + httpPort + "/drawbridge";
  }

  /** Where the container's JVM option {@code -Ddrawbridge.config} (arquillian.xml) points. */
  Path configFile() {
    return isTomcat()
        ? home.resolve("conf/drawbridge.json")
        : home.resolve("standalone/configuration/drawbridge.json");
  }

  void writeConfig(ProxyConfig config) {
    write(configFile(), config.toJson());
  }

  void writeConfig(String json) {
    write(configFile(), json);
  }

  /**
   * Grants {@code user} the role {@code drawbridge-admin} in the container's realm. Tomcat's test
   * {@code tomcat-users.xml} already holds the user (copied by the build); WildFly's application
   * realm gets the two lines {@code add-user.sh -a -u user -p password -g drawbridge-admin} would
   * write. WildFly rereads these files when they change.
   */
  void grantAdmin(String user, String password) {
    if (isTomcat()) {
      return;
    }
    Path configuration = home.resolve("standalone/configuration");
    String digest = md5Hex(user + ":ApplicationRealm:" + password);
    append(configuration.resolve("application-users.properties"), user + "=" + digest + "\n");
    append(configuration.resolve("application-roles.properties"), user + "=drawbridge-admin\n");
  }

  /** The container's main log, from now on. */
  ServerLog log() {
    return isTomcat()
        ? new ServerLog(home.resolve("logs"), "catalina\\..*\\.log")
        : new ServerLog(home.resolve("standalone/log"), "server\\.log");
  }

  /** The proxy's own log: {@code logs/drawbridge.log} with tomcat-conf, WildFly's server.log. */
  ServerLog proxyLog() {
    return isTomcat()
        ? new ServerLog(home.resolve("logs"), "drawbridge\\.log")
        : new ServerLog(home.resolve("standalone/log"), "server\\.log");
  }

  private static String required(String property) {
    String value = System.getProperty(property);
    if (value == null) {
      throw new IllegalStateException(property + " is not set; run this test with 'mvn verify'");
    }
    return value;
  }

  private static String md5Hex(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8));
      return String.format("%032x", new BigInteger(1, digest));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void write(Path file, String content) {
    try {
      Files.writeString(file, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void append(Path file, String line) {
    try {
      Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
