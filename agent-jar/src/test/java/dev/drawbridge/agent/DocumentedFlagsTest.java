package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The flag table of docs/agent.md and {@link Flag} name the same flags with the same variables,
 * and a default the code states as a plain word is the one the table shows.
 */
@Timeout(10)
class DocumentedFlagsTest {

  private static final Path PAGE = Path.of(System.getProperty("basedir", "."), "..", "docs", "agent.md");

  /** One row of the table: flag, variable, default. */
  private record Row(String flag, String variable, String defaultText) {}

  @Test
  void everyDocumentedFlagExistsWithItsVariableAndEveryFlagIsDocumented() throws IOException {
    Map<String, String> documented = new TreeMap<>();
    rows().forEach((flag, row) -> documented.put(flag, row.variable()));
    Map<String, String> code = new TreeMap<>();
    for (Flag flag : Flag.values()) {
      code.put(flag.flag(), flag.env());
    }
    assertEquals(code, documented, "flags of " + PAGE.normalize() + " against the Flag enum");
  }

  @Test
  void plainDefaultsInTheCodeAreTheTablesDefaults() throws IOException {
    Map<String, Row> rows = rows();
    List<String> wrong = new ArrayList<>();
    for (Flag flag : Flag.values()) {
      Row row = rows.get(flag.flag());
      String shown = row == null ? null : row.defaultText().replace("`", "");
      if (row != null && flag.defaultText() != null && flag.defaultText().matches("[\\w.]+")
          && !flag.defaultText().equals(shown)) {
        wrong.add(flag.flag() + ": documented " + shown + ", code " + flag.defaultText());
      }
    }
    assertEquals(List.of(), wrong);
  }

  /** Rows of the first table under "## Flags", by flag. */
  private static Map<String, Row> rows() throws IOException {
    List<String> lines = Files.readAllLines(PAGE, StandardCharsets.UTF_8);
    int row = lines.indexOf("## Flags");
    while (row < lines.size() && !lines.get(row).startsWith("|")) {
      row++;
    }
    Map<String, Row> rows = new LinkedHashMap<>();
    for (row += 2; row < lines.size() && lines.get(row).startsWith("|"); row++) {
      String[] cells = lines.get(row).split("\\|");
      String flag = cells[1].trim().replace("`", "").split(" ")[0];
      String variable = cells[2].trim().replace("`", "").split(" ")[0];
      rows.put(flag, new Row(flag, variable, cells[3].trim()));
    }
    return rows;
  }
}
