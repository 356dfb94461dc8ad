package dev.drawbridge.it.support;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads what an embedded Tomcat logs while it runs the proxy WAR, as an operator reads catalina.out,
 * and keeps every warning or error that is not one of the {@link #EXPECTED} ones, with the reason
 * each is expected; {@link TomcatProxy#stop()} fails on what it kept. Among them: a thread the WAR
 * left running when it stopped ("appears to have started a thread named [...] but has failed to stop
 * it"), and a request or response Tomcat had to recycle itself because the WAR never finished it
 * (logged at INFO, so that logger is raised to INFO).
 *
 * <p>Tomcat's messages are read in English; the suite's Tomcat JVMs run with {@code
 * -Duser.language=en} (see {@link Containers.Container#jvmOptions()}).
 */
final class TomcatLogWatch extends Handler implements AutoCloseable {

  /** Every Tomcat logger is below this one. */
  private static final Logger TOMCAT_LOG = Logger.getLogger("org.apache");

  /**
   * Tomcat's start and stop chatter (INFO) is left out, as the Jetty harness leaves Jetty's; the
   * connector adapter's INFO stays, since it reports requests the application never finished. Held
   * here: java.util.logging keeps loggers only weakly, and with them their levels.
   */
  private static final List<Logger> LEVELS = List.of(
      level("org.apache.catalina", Level.WARNING),
      level("org.apache.coyote", Level.WARNING),
      level("org.apache.tomcat", Level.WARNING),
      level("org.apache.catalina.connector.CoyoteAdapter", Level.INFO));

  /** Tomcat's own request and utility threads (see {@link #EXPECTED}). */
  private static final Pattern CONTAINER_THREAD = Pattern.compile("https?-.+-exec-\\d+|Catalina-utility-\\d+");

  private static final Pattern LEFT_THREAD = Pattern.compile(
      "The web application \\[[^]]*] appears to have started a thread named \\[([^]]+)]"
          + "|The thread \\[([^]]+)] of web application \\[[^]]*] is still processing a request");

  /** A warning Tomcat logs in a run of the suite that is no defect of the WAR, and why. */
  private record Expected(String reason, Predicate<LogRecord> matches) {}

  private static final List<Expected> EXPECTED = List.of(
      new Expected(
          "Tomcat timing the start of its session-id random source, slow on a busy machine; the WAR"
              + " uses no session",
          record -> message(record).startsWith("Creation of SecureRandom instance for session ID generation")),
      new Expected(
          "tomcat-conf's LockOutRealm refusing a user after wrong passwords, as it should (AdminSecurityIT)",
          record -> message(record).startsWith("An attempt was made to authenticate the locked user")),
      new Expected(
          "Tomcat's own request or utility thread, which carries the application's class loader while"
              + " it serves the application, caught serving it (a held request Tomcat times out on stop,"
              + " the background processor) at the moment Tomcat looks for leaked threads",
          record -> {
            Matcher matcher = LEFT_THREAD.matcher(message(record));
            if (!matcher.find()) {
              return false;
            }
            String thread = matcher.group(1) != null ? matcher.group(1) : matcher.group(2);
            return CONTAINER_THREAD.matcher(thread).matches();
          }),
      new Expected(
          "the proxy cutting a client's response: it throws from the async dispatch so the container"
              + " closes the connection and a cut body never looks complete (docs/deploying.md)",
          record -> causedBy(record, "ResponseAbortedException")),
      new Expected(
          "known defect: when Tomcat times out a held request of the WAR it is stopping, the proxy"
              + " tries to cut a streaming response with AsyncContext.dispatch(), which Tomcat can no"
              + " longer map; the connection is still cut (ProxyDrainIT)",
          record -> message(record).equals("Error during mapping")
              || message(record).startsWith("onTimeout() call failed") && causedBy(record, "UnsupportedOperationException")));

  private final List<String> unexpected = new CopyOnWriteArrayList<>();

  private TomcatLogWatch() {
    setLevel(Level.ALL);
  }

  /** Starts reading Tomcat's log; close the watch once the server has stopped. */
  static TomcatLogWatch start() {
    TomcatLogWatch watch = new TomcatLogWatch();
    TOMCAT_LOG.addHandler(watch);
    return watch;
  }

  @Override
  public void publish(LogRecord record) {
    boolean leftThread = LEFT_THREAD.matcher(message(record)).find();
    boolean notRecycled = message(record).contains("non-recycled");
    if (record.getLevel().intValue() < Level.WARNING.intValue() && !notRecycled && !leftThread) {
      return;
    }
    if (EXPECTED.stream().noneMatch(expected -> expected.matches().test(record))) {
      unexpected.add(record.getLevel() + " " + record.getLoggerName() + ": " + firstLine(message(record))
          + (record.getThrown() == null ? "" : " (" + record.getThrown() + ")"));
    }
  }

  /** What Tomcat logged so far that no {@link #EXPECTED} entry explains, in order. */
  List<String> unexpected() {
    return List.copyOf(unexpected);
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    TOMCAT_LOG.removeHandler(this);
  }

  private static String message(LogRecord record) {
    return record.getMessage() == null ? "" : record.getMessage();
  }

  private static String firstLine(String text) {
    int end = text.indexOf('\n');
    return end < 0 ? text : text.substring(0, end);
  }

  private static boolean causedBy(LogRecord record, String simpleClassName) {
    for (Throwable thrown = record.getThrown(); thrown != null; thrown = thrown.getCause()) {
      if (thrown.getClass().getSimpleName().equals(simpleClassName)) {
        return true;
      }
    }
    return false;
  }

  private static Logger level(String name, Level level) {
    Logger logger = Logger.getLogger(name);
    logger.setLevel(level);
    return logger;
  }
}
