package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real agent jar running as a child process, as users run it ({@code java -jar}). Its output
 * is captured for {@link #awaitLine}; {@link #close} makes sure no agent outlives its test.
 */
public final class AgentProcess implements AutoCloseable {

  /** Printed by the agent once its first poll reached the proxy. */
  public static final String CONNECTED = "Connected to proxy";

  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

  private final Process process;
  private final ProcessOutput output;

  private AgentProcess(Process process) {
    this.process = process;
    this.output = new ProcessOutput("agent-" + process.pid(), process);
    WatchedJvms.watch(process, "an agent");
  }

  /** Starts the agent with these command-line flags and a small default heap. */
  public static AgentProcess start(List<String> agentFlags) {
    return start(List.of("-Xmx128m"), agentFlags);
  }

  /** Starts the agent with JVM options (e.g. {@code -Xmx32m}) and command-line flags. */
  public static AgentProcess start(List<String> jvmOptions, List<String> agentFlags) {
    List<String> command = new ArrayList<>();
    command.add(BuiltArtifacts.javaLauncher().toString());
    command.addAll(jvmOptions);
    command.add("-jar");
    command.add(BuiltArtifacts.agentJar().toString());
    command.addAll(agentFlags);
    try {
      return new AgentProcess(new ProcessBuilder(command).start());
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + command, e);
    }
  }

  /** The usual flags: serve {@code backendId} of the proxy by forwarding to {@code targetUrl}. */
  public static List<String> flags(String proxyUrl, String targetUrl, String backendId, String token) {
    return List.of(
        "--proxy", proxyUrl, "--target", targetUrl, "--backend", backendId, "--token", token);
  }

  /** Starts an agent with {@link #flags} and waits until it says it is connected. */
  public static AgentProcess connect(
      String proxyUrl, String targetUrl, String backendId, String token, Duration timeout) {
    AgentProcess agent = start(flags(proxyUrl, targetUrl, backendId, token));
    try {
      agent.awaitLine(CONNECTED, timeout);
      return agent;
    } catch (RuntimeException | AssertionError e) {
      agent.close();
      throw e;
    }
  }

  /** Waits for the next output line matching {@code regex}; see {@link ProcessOutput}. */
  public String awaitLine(String regex, Duration timeout) {
    return output.awaitLine(regex, timeout);
  }

  /**
   * Passes over every line the agent printed so far, so that {@link #awaitLine} waits for one
   * printed from now on, e.g. a reaction to a fault the test is about to cause.
   */
  public void skipPrinted() {
    output.skipPrinted();
  }

  /** Every line the agent printed so far. */
  public List<String> lines() {
    return output.lines();
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL: the agent vanishes without a goodbye, as when its host dies. */
  public void kill() {
    process.destroyForcibly();
    awaitExit(STOP_TIMEOUT);
  }

  /**
   * SIGTERM, then waits for a graceful exit (the agent drains its exchanges first).
   *
   * @return the exit code
   * @throws AssertionError if the agent did not exit within {@code timeout}; it is then killed
   */
  public int stop(Duration timeout) {
    terminate();
    return exitCode(timeout);
  }

  /**
   * SIGTERM, without waiting: the agent starts draining, and its output can still be read (unlike
   * {@link Process#destroy()}, which also closes the streams).
   */
  public void terminate() {
    process.toHandle().destroy();
  }

  /**
   * Waits for the agent to exit and returns its exit code.
   *
   * @throws AssertionError if it did not exit within {@code timeout}; it is then killed
   */
  public int exitCode(Duration timeout) {
    if (!awaitExit(timeout)) {
      process.destroyForcibly();
      throw new AssertionError("agent did not exit within " + timeout + " after SIGTERM");
    }
    return process.exitValue();
  }

  /** Kills the agent if it still runs; safe to call more than once. */
  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }

  private boolean awaitExit(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
