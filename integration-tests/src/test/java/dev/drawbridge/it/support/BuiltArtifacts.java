package dev.drawbridge.it.support;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the packaged proxy WAR and agent jar. Failsafe passes their locations as system
 * properties; the fallbacks make the tests runnable from an IDE started in this module.
 */
public final class BuiltArtifacts {

  private BuiltArtifacts() {}

  /** The WAR file if packaged, else its exploded directory (both are what Tomcat would deploy). */
  public static Path proxyWar() {
    Path target = Path.of(System.getProperty("drawbridge.it.proxyTarget", "../proxy-war/target"));
    Path war = target.resolve("drawbridge.war");
    if (Files.isRegularFile(war)) {
      return war.toAbsolutePath();
    }
    Path exploded = target.resolve("drawbridge");
    if (Files.isDirectory(exploded.resolve("WEB-INF"))) {
      return exploded.toAbsolutePath();
    }
    throw new IllegalStateException(
        "no proxy WAR under " + target.toAbsolutePath() + "; run 'mvn package' from the top first");
  }

  /**
   * The WAR's exploded directory if the build left one, else {@link #proxyWar()}. Tomcat loads a
   * class from a jar inside a packed WAR by inflating that jar from its start up to the class, which
   * costs about a second on every start of the proxy; the tests that start Tomcat in this JVM many
   * times use the directory, and the distribution tests the WAR file itself.
   */
  public static Path explodedProxyWar() {
    Path war = proxyWar();
    Path exploded = war.resolveSibling("drawbridge");
    return Files.isDirectory(exploded.resolve("WEB-INF")) ? exploded : war;
  }

  /** The WAR file itself, for deployers that need an archive (Arquillian, Tomcat's webapps/). */
  public static Path proxyWarFile() {
    Path war = proxyWar();
    if (!Files.isRegularFile(war)) {
      throw new IllegalStateException("expected a packaged WAR file, found only " + war);
    }
    return war;
  }

  /** The shaded, executable agent jar. */
  public static Path agentJar() {
    Path jar =
        Path.of(
            System.getProperty(
                "drawbridge.it.agentJar", "../agent-jar/target/drawbridge-agent.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "no agent jar at " + jar.toAbsolutePath() + "; run 'mvn package' from the top first");
    }
    return jar.toAbsolutePath();
  }

  /** The {@code java} launcher of the running JVM, so child processes use the same JDK. */
  public static Path javaLauncher() {
    return Path.of(System.getProperty("java.home"), "bin", "java");
  }
}
