package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every place that starts the agent gives it the same JVM options: the README's command, the
 * agent's page, the systemd unit, {@code run-local.sh} and the benchmark. They are written out in
 * each, so a change to one that misses another fails here.
 */
@Timeout(10)
class DocumentedJvmOptionsTest {

  private static final Path ROOT = Path.of(System.getProperty("basedir", "."), "..");

  /** The options between {@code java} and {@code -jar drawbridge-agent.jar}, line continuations joined. */
  private static final Pattern COMMAND = Pattern.compile("java ((?:-X\\S+\\s+(?:\\\\\\s+)?)+)-jar \\S*drawbridge-agent\\.jar");
  private static final Pattern SHELL_ARRAY = Pattern.compile("(?m)^AGENT_JVM=\\(([^)]*)\\)");
  private static final Pattern PYTHON_LIST = Pattern.compile("(?m)^AGENT_JVM = \\[([^]]*)]");

  @Test
  void everyPlaceThatStartsTheAgentGivesItTheReadmesOptions() throws IOException {
    List<String> readme = options(COMMAND, "README.md");
    assertEquals(readme, options(COMMAND, "docs/agent.md"), "docs/agent.md against README.md");
    assertEquals(readme, options(COMMAND, "agent-jar/drawbridge-agent.service"), "the systemd unit against README.md");
    assertEquals(readme, options(SHELL_ARRAY, "run-local.sh"), "run-local.sh against README.md");
    assertEquals(readme, options(PYTHON_LIST, "bench/run.py"), "bench/run.py against README.md");
  }

  private static List<String> options(Pattern pattern, String file) throws IOException {
    Matcher m = pattern.matcher(Files.readString(ROOT.resolve(file)));
    if (!m.find()) {
      throw new AssertionError(file + " starts no agent with JVM options that " + pattern + " finds");
    }
    return List.of(m.group(1).replaceAll("[\\\\\",]", " ").trim().split("\\s+"));
  }
}
