package dev.drawbridge.it.support;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The JDK's keytool, for tests that need keys and certificates of their own. */
public final class Keytool {

  private Keytool() {}

  /** Runs keytool with {@code args}; fails the test with its output if it fails. */
  public static void run(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    // Generous: each run is a JVM of its own, slow on a machine whose cores are all busy.
    assertTrue(process.waitFor(120, TimeUnit.SECONDS) && process.exitValue() == 0, () -> command + ": " + output);
  }
}
