package dev.drawbridge.it.support;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test when, at its end, a thread is deadlocked in this JVM (the proxy in embedded Jetty,
 * the backends) or in any child JVM still running ({@link WatchedJvms}: forked proxies, real
 * containers, agents). Registered for every test of this module through the service file and
 * {@code junit-platform.properties}, so no end-to-end test can forget it.
 *
 * <p>It runs right after the test method, before {@code @AfterEach} stops the servers: a deadlock
 * shows while the threads are still stuck, and stopping a deadlocked server would only hang.
 */
public final class DeadlockCheck implements AfterTestExecutionCallback {

  @Override
  public void afterTestExecution(ExtensionContext context) {
    List<String> found = new ArrayList<>();
    String here = inThisJvm();
    if (here != null) {
      found.add("in the test JVM:\n" + here);
    }
    for (Map.Entry<Long, String> child : WatchedJvms.running().entrySet()) {
      String report = ThreadDump.deadlocks(child.getKey());
      if (report != null) {
        found.add("in " + child.getValue() + " (pid " + child.getKey() + "):\n" + report);
      }
    }
    if (!found.isEmpty()) {
      throw new AssertionError("Deadlocked threads at the end of the test, " + String.join("\n", found));
    }
  }

  /** The deadlocked threads of this JVM with the locks they hold and wait for, or null. */
  static String inThisJvm() {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    // findDeadlockedThreads covers monitors and java.util.concurrent locks; the monitor-only call
    // is kept as well since it also works where ownable synchronizers are not tracked.
    long[] ids = threads.findDeadlockedThreads();
    if (ids == null) {
      ids = threads.findMonitorDeadlockedThreads();
    }
    if (ids == null) {
      return null;
    }
    StringBuilder report = new StringBuilder();
    for (ThreadInfo info : threads.getThreadInfo(ids, true, true)) {
      if (info != null) {
        report.append(info);
      }
    }
    return report.toString();
  }
}
