package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.GitHttpBackend;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.Tokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code git} client against Git's own smart HTTP server through the tunnel, with the
 * proxy's and the agent's defaults: clones with protocol versions 2 and 0, a shallow clone deepened
 * later, and a push large enough that Git sends it with chunked transfer encoding.
 */
@Timeout(300)
class GitClientIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final long GIT_SECONDS = 120;

  @TempDir Path dir;

  @Test
  void cloneFetchAndPushGoThroughTheTunnel() throws Exception {
    Path root = Files.createDirectories(dir.resolve("served"));
    Path seed = dir.resolve("seed");
    String head = seedRepository(seed, root.resolve("project.git"));
    String token = Tokens.random();
    try (GitHttpBackend backend = GitHttpBackend.start(root);
        ProxyServer proxy = ProxyServer.start(ProxyConfig.singleBackend("default", Tokens.sha256Hex(token)));
        AgentProcess agent = AgentProcess.start(AgentProcess.flags(proxy.baseUrl(), backend.url(), "default", token))) {
      agent.awaitLine(AgentProcess.CONNECTED, WAIT);
      String url = proxy.baseUrl() + "/project.git";

      Path clone = dir.resolve("clone");
      git(dir, "clone", "--quiet", url, clone.toString());
      assertEquals(head, git(clone, "rev-parse", "HEAD"), "the clone has the repository's history");
      assertEquals("3", git(clone, "rev-list", "--count", "HEAD"));

      Path oldClient = dir.resolve("protocol-0");
      git(dir, "-c", "protocol.version=0", "clone", "--quiet", url, oldClient.toString());
      assertEquals(head, git(oldClient, "rev-parse", "HEAD"), "a client of Git's first protocol clones too");

      // Larger than Git's 1 MiB http.postBuffer: the push goes up with chunked transfer encoding.
      Files.write(clone.resolve("release.bin"), randomBytes(3 * 1024 * 1024, 7));
      git(clone, "add", "release.bin");
      git(clone, "commit", "--quiet", "-m", "Add the release");
      String pushed = git(clone, "rev-parse", "HEAD");
      int chunkedBefore = backend.chunkedRequests();
      git(clone, "push", "--quiet", "origin", "main");
      assertEquals(chunkedBefore + 1, backend.chunkedRequests(), "the pack went up chunked, and arrived so");
      assertEquals(pushed, git(root.resolve("project.git"), "rev-parse", "main"), "the push reached the server");

      Path shallow = dir.resolve("shallow");
      git(dir, "clone", "--quiet", "--depth", "1", url, shallow.toString());
      assertEquals(pushed, git(shallow, "rev-parse", "HEAD"));
      assertEquals("1", git(shallow, "rev-list", "--count", "HEAD"));
      git(shallow, "fetch", "--quiet", "--unshallow");
      assertEquals("4", git(shallow, "rev-list", "--count", "HEAD"), "the fetch brought the whole history");
      assertEquals("", git(shallow, "fsck", "--no-progress"), "every object arrived intact");

      git(oldClient, "pull", "--quiet", "--ff-only");
      assertEquals(pushed, git(oldClient, "rev-parse", "HEAD"), "the first clone fetched the pushed commit");
    }
  }

  /** A bare repository of three commits (a few hundred files, one of 2 MiB); answers its head. */
  private String seedRepository(Path work, Path bare) throws Exception {
    Files.createDirectories(work);
    git(work, "init", "--quiet", "-b", "main");
    for (int commit = 0; commit < 3; commit++) {
      for (int i = 0; i < 100; i++) {
        Files.writeString(work.resolve("file-" + i + ".txt"), "line " + commit + " of file " + i + "\n".repeat(i + 1));
      }
      if (commit == 1) {
        Files.write(work.resolve("data.bin"), randomBytes(2 * 1024 * 1024, 3));
      }
      git(work, "add", "--all");
      git(work, "commit", "--quiet", "-m", "Commit " + commit);
    }
    git(dir, "clone", "--quiet", "--bare", work.toString(), bare.toString());
    return git(work, "rev-parse", "HEAD");
  }

  private static byte[] randomBytes(int length, long seed) {
    byte[] bytes = new byte[length];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /**
   * Runs {@code git} in {@code workDir} with no user or system configuration; answers its output,
   * trimmed. Fails with its output when it exits with an error or runs too long.
   */
  private String git(Path workDir, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("git", "-c", "user.name=Tester", "-c", "user.email=tester@example.com",
        "-c", "init.defaultBranch=main"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
    Map<String, String> env = builder.environment();
    env.put("HOME", dir.toString());
    env.put("GIT_CONFIG_NOSYSTEM", "1");
    env.put("GIT_TERMINAL_PROMPT", "0");
    env.put("LC_ALL", "C");
    Path output = Files.createTempFile(dir, "git-", ".out");
    Process git = builder.redirectOutput(output.toFile()).start();
    if (!git.waitFor(GIT_SECONDS, TimeUnit.SECONDS)) {
      git.destroyForcibly();
      throw new AssertionError("git " + String.join(" ", args) + " ran for more than " + GIT_SECONDS + " s: "
          + Files.readString(output, StandardCharsets.UTF_8));
    }
    String text = Files.readString(output, StandardCharsets.UTF_8).trim();
    if (git.exitValue() != 0) {
      throw new AssertionError("git " + String.join(" ", args) + " exited with " + git.exitValue() + ": " + text);
    }
    return text;
  }
}
