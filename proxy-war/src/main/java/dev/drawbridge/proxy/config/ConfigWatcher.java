package dev.drawbridge.proxy.config;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Watches the configuration file's directory and asks the {@link ConfigReloader} to look at the
 * file once it has been quiet for {@link #QUIET}: whole-file replacements (write to a temporary
 * file, then rename) and writes in place both show up, and a file still being written is read
 * after its writer paused, not in the middle of each write. The directory, not the file, is
 * watched because a rename replaces the file, and a mounted configuration (a Kubernetes ConfigMap)
 * swaps a symbolic link beside it. It also looks every {@link #FALLBACK} in case a file system
 * sends no events (network file systems).
 */
public final class ConfigWatcher implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(ConfigWatcher.class.getName());

  /** How long the directory must be quiet before the file is read. */
  static final Duration QUIET = Duration.ofMillis(250);

  /** How often the file is read when no event arrives. */
  static final Duration FALLBACK = Duration.ofSeconds(2);

  private final ConfigReloader reloader;
  private final WatchService watch;
  private final Thread thread;

  private ConfigWatcher(ConfigReloader reloader, WatchService watch) {
    this.reloader = reloader;
    this.watch = watch;
    this.thread = new Thread(this::run, "drawbridge-config-watch");
    thread.setDaemon(true);
  }

  /** Starts watching the reloader's file, or returns null when there is no file to watch. */
  public static ConfigWatcher start(ConfigReloader reloader) {
    Path file = reloader.file();
    if (file == null) {
      return null;
    }
    Path directory = file.toAbsolutePath().getParent();
    WatchService watch;
    try {
      watch = newWatchService();
      directory.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
          StandardWatchEventKinds.ENTRY_DELETE);
    } catch (IOException | RuntimeException e) {
      LOG.warning("Cannot watch " + directory + " for changes to " + file + " (" + e + "); the file is read every "
          + FALLBACK.toSeconds() + " s instead, and POST /_drawbridge/admin/api/reload applies it at once");
      watch = null;
    }
    ConfigWatcher watcher = new ConfigWatcher(reloader, watch);
    watcher.thread.start();
    return watcher;
  }

  /**
   * A watch service whose thread (the JDK starts one, "FileSystemWatchService") does not carry the
   * web application's class loader. Closing the service ends that thread a moment later, so Tomcat,
   * which looks for threads holding the application's loader right after an undeploy, would find it
   * still there and warn of a likely memory leak; nor should a JDK thread pin the loader meanwhile.
   */
  private static WatchService newWatchService() throws IOException {
    Thread current = Thread.currentThread();
    ClassLoader application = current.getContextClassLoader();
    current.setContextClassLoader(ClassLoader.getPlatformClassLoader());
    try {
      return FileSystems.getDefault().newWatchService();
    } finally {
      current.setContextClassLoader(application);
    }
  }

  private void run() {
    try {
      while (!Thread.currentThread().isInterrupted()) {
        if (watch != null && waitForEvent(FALLBACK)) {
          // Let a writer finish: read once nothing happened for QUIET.
          while (waitForEvent(QUIET)) {
            // keep waiting
          }
        } else if (watch == null) {
          TimeUnit.MILLISECONDS.sleep(FALLBACK.toMillis()); // The fallback's period, not synchronisation.
        }
        check();
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // Closed on undeploy.
    }
  }

  /** True when an event arrived within {@code wait}. */
  private boolean waitForEvent(Duration wait) throws InterruptedException {
    WatchKey key = watch.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    if (key == null) {
      return false;
    }
    key.pollEvents();
    key.reset();
    return true;
  }

  private void check() {
    try {
      reloader.checkForChange();
    } catch (RuntimeException e) {
      LOG.log(Level.SEVERE, "Applying the changed configuration failed; the watcher goes on", e);
    }
  }

  /** Stops watching and waits for the watcher's thread to end. */
  @Override
  public void close() {
    thread.interrupt();
    if (watch != null) {
      try {
        watch.close();
      } catch (IOException e) {
        // Already closing; nothing left to release.
      }
    }
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
