package dev.drawbridge.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The table of keys in docs/configuration.md and the fields of {@link ConfigFile} name the same
 * keys, and a default the table shows as a literal is the one the code has.
 */
@Timeout(10)
class DocumentedKeysTest {

  private static final Path PAGE = Path.of(System.getProperty("basedir", "."), "..", "docs", "configuration.md");

  @Test
  void everyDocumentedKeyExistsAndEveryKeyIsDocumented() throws Exception {
    Map<String, String> documented = documentedDefaults();
    Map<String, Object> code = codeDefaults();
    TreeSet<String> undocumented = new TreeSet<>(code.keySet());
    undocumented.removeAll(documented.keySet());
    TreeSet<String> unknown = new TreeSet<>(documented.keySet());
    unknown.removeAll(code.keySet());
    assertEquals("", (undocumented.isEmpty() ? "" : "not in " + PAGE.getFileName() + ": " + undocumented + " ")
        + (unknown.isEmpty() ? "" : "documented but not in ConfigFile: " + unknown));
  }

  @Test
  void literalDefaultsInTheTableAreTheCodesDefaults() throws Exception {
    Map<String, String> documented = documentedDefaults();
    Map<String, Object> code = codeDefaults();
    List<String> wrong = new ArrayList<>();
    documented.forEach((key, shown) -> {
      if (shown.matches("`[^`]+`") && code.containsKey(key)) {
        String literal = shown.substring(1, shown.length() - 1);
        Object actual = code.get(key);
        boolean same = actual instanceof Number number
            ? literal.matches("-?[0-9.]+") && Double.parseDouble(literal) == number.doubleValue()
            : literal.equals(String.valueOf(actual));
        if (!same) {
          wrong.add(key + ": documented " + literal + ", code " + actual);
        }
      }
    });
    assertFalse(documented.isEmpty());
    assertEquals(List.of(), wrong);
  }

  /** Key to the text of its default column, from the first table under "## Keys". */
  private static Map<String, String> documentedDefaults() throws IOException {
    List<String> lines = Files.readAllLines(PAGE, StandardCharsets.UTF_8);
    int row = lines.indexOf("## Keys");
    while (row < lines.size() && !lines.get(row).startsWith("|")) {
      row++;
    }
    Map<String, String> keys = new LinkedHashMap<>();
    for (row += 2; row < lines.size() && lines.get(row).startsWith("|"); row++) {
      String[] cells = lines.get(row).split("\\|");
      keys.put(cells[1].trim().replace("`", ""), cells[2].trim());
    }
    return keys;
  }

  /** Every key the file accepts, with the default a fresh object holds ("[]" for an empty list). */
  private static Map<String, Object> codeDefaults() throws ReflectiveOperationException {
    Map<String, Object> keys = new LinkedHashMap<>();
    collect(new ConfigFile(), "", keys);
    return keys;
  }

  private static void collect(Object entry, String prefix, Map<String, Object> keys)
      throws ReflectiveOperationException {
    for (Field field : entry.getClass().getFields()) {
      if (Modifier.isStatic(field.getModifiers())) {
        continue;
      }
      String key = prefix + field.getName();
      Object value = field.get(entry);
      keys.put(key, value instanceof List<?> list && list.isEmpty() ? "[]" : value);
      if (field.getGenericType() instanceof ParameterizedType list
          && list.getActualTypeArguments()[0] instanceof Class<?> element
          && element.getEnclosingClass() == ConfigFile.class) {
        collect(element.getConstructor().newInstance(), key + "[].", keys);
      }
    }
  }
}
