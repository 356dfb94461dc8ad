package dev.drawbridge.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(10)
class ConfigReloaderTest {

  private static final String DIGEST = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  private static final String ONE = "{\"backends\":[{\"id\":\"app\",\"agentTokenSha256\":[\"" + DIGEST + "\"]}]}";
  private static final String TWO = "{\"backends\":[{\"id\":\"app\",\"agentTokenSha256\":[\"" + DIGEST + "\"]},"
      + "{\"id\":\"wiki\",\"agentTokenSha256\":[\"" + DIGEST + "\"]}],\"retryAfterSeconds\":9}";

  @TempDir Path dir;

  private final Clock clock = Clock.fixed(Instant.parse("2026-11-22T03:00:00Z"), ZoneOffset.UTC);
  private final List<ProxySettings> applied = new ArrayList<>();

  private ConfigReloader start(String json) throws Exception {
    Path file = Files.writeString(dir.resolve("drawbridge.json"), json);
    ConfigReloader reloader = ConfigReloader.load(file, clock);
    reloader.onApply(applied::add);
    return reloader;
  }

  @Test
  void aChangedFileIsAppliedAndCountedWithItsVersionAndHash() throws Exception {
    ConfigReloader reloader = start(ONE);
    String firstHash = reloader.status().sha256();
    Files.writeString(dir.resolve("drawbridge.json"), TWO);

    ConfigReloader.Outcome outcome = reloader.reload("a test asked");

    assertEquals(ConfigReloader.Result.APPLIED, outcome.result());
    assertTrue(outcome.message().contains("backends added wiki"), outcome.message());
    assertTrue(outcome.message().contains("settings changed retryAfterSeconds"), outcome.message());
    assertEquals(1, applied.size());
    assertSame(applied.get(0), reloader.current());
    ConfigReloader.Status status = reloader.status();
    assertEquals(2, status.version());
    assertTrue(!status.sha256().equals(firstHash) && status.sha256().matches("[0-9a-f]{64}"));
    assertEquals(1L, status.reloads().get(ConfigReloader.Result.APPLIED));
  }

  @Test
  void anUnchangedFileIsCountedAndChangesNothing() throws Exception {
    ConfigReloader reloader = start(ONE);
    assertEquals(ConfigReloader.Result.UNCHANGED, reloader.reload("a test asked").result());
    assertEquals(List.of(), applied);
    assertEquals(1, reloader.status().version());
    assertEquals(1L, reloader.status().reloads().get(ConfigReloader.Result.UNCHANGED));
  }

  @Test
  void anInvalidFileLeavesTheRunningConfigurationAndNamesFileKeyAndReason() throws Exception {
    ConfigReloader reloader = start(ONE);
    ProxySettings running = reloader.current();
    Path file = Files.writeString(dir.resolve("drawbridge.json"), ONE.replace("\"app\"", "\"a b\""));

    ConfigReloader.Outcome outcome = reloader.reload("a test asked");

    assertEquals(ConfigReloader.Result.INVALID, outcome.result());
    assertEquals(file + ": key 'backends[0].id': must be 1 to 64 letters, digits, '.', '_' or '-'", outcome.message());
    assertSame(running, reloader.current());
    assertEquals(List.of(), applied);
    ConfigReloader.Status status = reloader.status();
    assertEquals(outcome.message(), status.lastError());
    assertEquals(clock.instant(), status.lastErrorAt());
    assertEquals(1, status.version());
  }

  @Test
  void theWatcherActsOnceForEachNewContentAndNotForARewriteOfTheSameBytes() throws Exception {
    ConfigReloader reloader = start(ONE);
    Path file = dir.resolve("drawbridge.json");
    Files.writeString(file, ONE);
    reloader.checkForChange();
    assertEquals(0L, reloader.status().reloads().get(ConfigReloader.Result.UNCHANGED), "same bytes: nothing to say");

    Files.writeString(file, TWO.substring(0, TWO.length() / 2));
    reloader.checkForChange();
    reloader.checkForChange();
    assertEquals(1L, reloader.status().reloads().get(ConfigReloader.Result.INVALID), "a cut file is refused once");
    assertTrue(reloader.status().lastError().startsWith(file.toString()), reloader.status().lastError());

    Path temporary = Files.writeString(dir.resolve("drawbridge.json.tmp"), TWO);
    Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    reloader.checkForChange();
    assertEquals(1L, reloader.status().reloads().get(ConfigReloader.Result.APPLIED));
    assertEquals(2, reloader.current().backends().size());
  }

  @Test
  void withoutAFileThereIsNothingToReload() {
    ConfigReloader reloader = ConfigReloader.fixed(ConfigLoader.firstRun(new byte[32]), clock);
    assertTrue(reloader.reload("a test asked").message().startsWith("No configuration file is set"));
    assertNull(reloader.status().file());
    assertEquals(0L, reloader.status().reloads().get(ConfigReloader.Result.INVALID));
  }
}
