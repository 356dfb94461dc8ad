package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The temporary directories the tests create (work directories of proxies, Tomcat bases, browser
 * profiles): each is deleted when its owner is done with it, and whatever is left when the test
 * JVM exits, so runs of the suite leave nothing behind in the system's temporary directory. A
 * proxy's work directory alone holds its unpacked WAR, a few MiB, and a run starts hundreds.
 */
public final class TempDirs {

  private static final Set<Path> CREATED = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> CREATED.forEach(TempDirs::delete), "drawbridge-temp-dirs"));
  }

  private TempDirs() {}

  /** A new empty directory named {@code prefix} and a random suffix, deleted at the latest when the JVM exits. */
  public static Path create(String prefix) {
    try {
      Path dir = Files.createTempDirectory(prefix);
      CREATED.add(dir);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Deletes {@code dir} and everything in it now. What cannot be deleted (a file a process still
   * writes), and whatever a container still stopping writes there afterwards, goes when the JVM
   * exits.
   */
  public static void delete(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
          deleteQuietly(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException failure) {
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path directory, IOException failure) {
          deleteQuietly(directory);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      // Left for the exit hook.
    }
  }

  private static void deleteQuietly(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // Left for the exit hook.
    }
  }
}
