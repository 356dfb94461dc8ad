package dev.drawbridge.it.support;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The child JVMs a test started and that still run, by pid, for {@link DeadlockCheck}. Each
 * launcher registers its process when it starts and forgets it once it has ended.
 */
public final class WatchedJvms {

  private static final Map<Long, Process> RUNNING = new ConcurrentHashMap<>();
  private static final Map<Long, String> NAMES = new ConcurrentHashMap<>();

  private WatchedJvms() {}

  /** Watches {@code process}, described as {@code name} in reports (e.g. "the forked proxy"). */
  public static void watch(Process process, String name) {
    NAMES.put(process.pid(), name);
    RUNNING.put(process.pid(), process);
    process.onExit().thenRun(() -> forget(process.pid()));
  }

  private static void forget(long pid) {
    RUNNING.remove(pid);
    NAMES.remove(pid);
  }

  /** The watched processes alive now: pid to name. */
  static Map<Long, String> running() {
    Map<Long, String> alive = new java.util.TreeMap<>();
    RUNNING.forEach((pid, process) -> {
      if (process.isAlive()) {
        alive.put(pid, NAMES.getOrDefault(pid, "a child JVM"));
      }
    });
    return alive;
  }
}
