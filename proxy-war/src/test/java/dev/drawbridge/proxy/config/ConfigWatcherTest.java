package dev.drawbridge.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class ConfigWatcherTest {

  private static final String DIGEST = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

  @TempDir Path dir;

  @Test
  void onlyTheWatchersOwnThreadCarriesTheApplicationsClassLoaderAndItHasEndedWhenCloseReturns() throws Exception {
    Path file = Files.writeString(
        dir.resolve("drawbridge.json"), "{\"backends\":[{\"id\":\"app\",\"agentTokenSha256\":[\"" + DIGEST + "\"]}]}");
    ConfigReloader reloader = ConfigReloader.load(file, Clock.systemUTC());
    // Stands for the web application's class loader, which a container's threads do not carry.
    ClassLoader application = new URLClassLoader(new URL[0], getClass().getClassLoader());
    Thread current = Thread.currentThread();
    ClassLoader before = current.getContextClassLoader();
    ConfigWatcher watcher;
    current.setContextClassLoader(application);
    try {
      watcher = ConfigWatcher.start(reloader);
    } finally {
      current.setContextClassLoader(before);
    }

    // The JDK's own watch thread (FileSystemWatchService on Linux) must not be among them: Tomcat
    // would report it as left running by the application after the undeploy.
    assertEquals(List.of("drawbridge-config-watch"), threadsCarrying(application));
    watcher.close();
    assertFalse(threadsCarrying(application).contains("drawbridge-config-watch"), "the watcher's thread has ended");
  }

  private static List<String> threadsCarrying(ClassLoader loader) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.isAlive() && thread.getContextClassLoader() == loader)
        .map(Thread::getName)
        .sorted()
        .toList();
  }
}
