package dev.drawbridge.agent;

import dev.drawbridge.protocol.Protocol;
import java.io.PrintStream;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code java -jar drawbridge-agent.jar}: parses flags, runs an {@link Agent}, drains it on SIGTERM.
 *
 * <p>Exit codes: 0 stopped normally (after draining), 1 fatal runtime error, 2 bad usage.
 */
public final class Main {

  static final int EXIT_OK = 0;
  static final int EXIT_FATAL = 1;
  static final int EXIT_USAGE = 2;

  /** Status the shutdown hook exits with; a fatal error sets 1 before it triggers the hook. */
  private static volatile int exitStatus = EXIT_OK;

  private Main() {}

  public static void main(String[] args) {
    // Must happen before anything touches java.util.logging; see AgentLogManager.
    System.setProperty("java.util.logging.manager", AgentLogManager.class.getName());
    int status = run(args, System.getenv(), System.out, System.err);
    if (status != -1) {
      System.exit(status);
    }
  }

  /** Handles help, version and usage errors; returns -1 when the agent was started and keeps running. */
  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    Command command;
    try {
      command = CommandLine.parse(args, env);
    } catch (UsageException e) {
      err.println("drawbridge-agent: " + e.getMessage());
      err.println(Usage.hint());
      return EXIT_USAGE;
    }
    if (command instanceof Command.Help) {
      out.print(Usage.text());
      return EXIT_OK;
    }
    if (command instanceof Command.NewToken) {
      out.print(NewToken.text());
      return EXIT_OK;
    }
    if (command instanceof Command.Version) {
      out.println("drawbridge-agent " + Protocol.SOFTWARE_VERSION + " (protocol " + Protocol.VERSION + ")");
      return EXIT_OK;
    }
    Command.Run runCommand = (Command.Run) command;
    Logging.configure(runCommand.logLevel());
    Logger log = Logger.getLogger(Main.class.getName());
    AgentGroup agent;
    try {
      agent = new AgentGroup(runCommand.configs());
    } catch (RuntimeException e) {
      log.log(Level.SEVERE, "Cannot start the agent: " + e.getMessage(), e);
      return EXIT_FATAL;
    }
    // Before the polls start: a SIGTERM that comes while they start still drains (the drain waits
    // for the start) and exits 0, instead of ending the JVM with 143 beside running polls.
    Thread shutdownHook = new Thread(() -> {
      int drained = agent.drain();
      log.info("Drained " + drained + " exchanges; exiting");
      System.out.flush();
      // Without halt the JVM reports 128+SIGTERM = 143; a drained agent stopped normally.
      Runtime.getRuntime().halt(exitStatus);
    }, "drawbridge-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    try {
      agent.start();
    } catch (RuntimeException e) {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
      log.log(Level.SEVERE, "Cannot start the agent: " + e.getMessage(), e);
      return EXIT_FATAL;
    }
    Thread waiter = new Thread(() -> {
      try {
        Throwable failure = agent.awaitFatal();
        log.severe("Fatal error, exiting: " + failure);
        exitStatus = EXIT_FATAL;
        System.exit(EXIT_FATAL);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "drawbridge-fatal-watch");
    waiter.setDaemon(true);
    waiter.start();
    return -1;
  }
}
