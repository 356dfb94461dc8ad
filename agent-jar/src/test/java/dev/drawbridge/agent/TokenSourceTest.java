package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A token file is followed: rewritten or replaced, its new token is used from the next call. */
@Timeout(10)
class TokenSourceTest {

  @TempDir Path dir;

  private final AtomicLong nanos = new AtomicLong();

  private TokenSource source(Path file) throws Exception {
    return TokenSource.file(file, Files.readString(file).trim(), nanos::get);
  }

  @Test
  void aRewrittenFileIsReadOnceTheRecheckIsDue() throws Exception {
    Path file = Files.writeString(dir.resolve("agent.token"), "old-token\n");
    TokenSource token = source(file);
    Files.writeString(file, "new-token\n");

    nanos.addAndGet(TokenSource.RECHECK_NANOS / 2);
    assertEquals("old-token", token.current(), "not looked at more than once a second");
    nanos.addAndGet(TokenSource.RECHECK_NANOS);
    assertEquals("new-token", token.current());
  }

  @Test
  void aReplacedFileIsFollowedAndAnEmptyOneIsIgnored() throws Exception {
    Path file = Files.writeString(dir.resolve("agent.token"), "old-token");
    TokenSource token = source(file);

    Files.writeString(file, "  \n");
    nanos.addAndGet(TokenSource.RECHECK_NANOS);
    assertEquals("old-token", token.current(), "an empty file keeps the current token");

    Path next = Files.writeString(dir.resolve("agent.token.new"), "next-token");
    Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    nanos.addAndGet(TokenSource.RECHECK_NANOS);
    assertEquals("next-token", token.current());
  }

  @Test
  void aTokenGivenDirectlyNeverChanges() {
    assertEquals("fixed", TokenSource.fixed("fixed").current());
  }
}
