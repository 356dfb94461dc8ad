package dev.drawbridge.it.support;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Watches, while Tomcat stops the proxy WAR, for the warning operators see in catalina.out when an
 * application leaves a thread of its own running: "The web application [drawbridge] appears to have
 * started a thread named [...] but has failed to stop it". Tomcat checks right after the
 * application's listeners return, so a thread still on its way out counts too.
 */
final class TomcatLeakWatch extends Handler implements AutoCloseable {

  /** Tomcat's class loader logs the warning under its own class name. */
  private static final Logger LOADER_LOG = Logger.getLogger("org.apache.catalina.loader.WebappClassLoaderBase");

  /** Tomcat's English message (webappClassLoader.stackTrace); the suite runs with an English locale. */
  private static final Pattern LEFT_THREAD =
      Pattern.compile("The web application \\[[^]]*] appears to have started a thread named \\[([^]]+)]");

  /**
   * Tomcat's own request and utility threads: they carry the application's class loader while they
   * serve it, so one busy at the moment of the check (a held request timed out by the stop, the
   * background processor) is reported too, though Tomcat owns and stops it.
   */
  private static final Pattern CONTAINER_THREAD = Pattern.compile("https?-.+-exec-\\d+|Catalina-utility-\\d+");

  private final List<String> leftThreads = new CopyOnWriteArrayList<>();

  private TomcatLeakWatch() {
    setLevel(Level.WARNING);
  }

  /** Starts watching; close it after the stop. */
  static TomcatLeakWatch start() {
    TomcatLeakWatch watch = new TomcatLeakWatch();
    LOADER_LOG.addHandler(watch);
    return watch;
  }

  @Override
  public void publish(LogRecord record) {
    if (record.getMessage() == null) {
      return;
    }
    Matcher matcher = LEFT_THREAD.matcher(record.getMessage());
    if (matcher.find() && !CONTAINER_THREAD.matcher(matcher.group(1)).matches()) {
      leftThreads.add(matcher.group(1));
    }
  }

  /** Names of the application's threads Tomcat found still running, in order. */
  List<String> leftThreads() {
    return List.copyOf(leftThreads);
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    LOADER_LOG.removeHandler(this);
  }
}
