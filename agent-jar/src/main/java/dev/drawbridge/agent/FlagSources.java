package dev.drawbridge.agent;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Where each flag's text comes from, in layers: the command line wins over {@code DRAWBRIDGE_*}
 * variables, which win over the {@code --config-file} properties. {@link CommandLine} turns the
 * texts into a configuration.
 */
final class FlagSources {

  /** A value and where it came from ("--concurrency" or "DRAWBRIDGE_CONCURRENCY"), for error messages. */
  record Value(String text, String source) {}

  private final Map<Flag, Value> values = new EnumMap<>(Flag.class);
  private final List<Value> routes = new ArrayList<>();

  private FlagSources() {}

  /** Reads every layer. */
  static FlagSources read(String[] args, Map<String, String> env) throws UsageException {
    FlagSources sources = new FlagSources();
    sources.readArgs(args);
    sources.readEnv(env);
    sources.readConfigFile();
    return sources;
  }

  /** The value of {@code flag}, or null when no layer set it. */
  Value get(Flag flag) {
    return values.get(flag);
  }

  boolean has(Flag flag) {
    return values.containsKey(flag);
  }

  /** The repeatable --route values, in order. */
  List<Value> routes() {
    return routes;
  }

  private void readArgs(String[] args) throws UsageException {
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new UsageException("unexpected argument '" + arg + "'");
      }
      int equals = arg.indexOf('=');
      String name = equals < 0 ? arg : arg.substring(0, equals);
      Flag flag = Flag.byFlag(name);
      if (flag == null) {
        throw new UsageException("unknown flag " + name);
      }
      String text;
      if (equals >= 0) {
        text = arg.substring(equals + 1);
      } else if (flag.isSwitch()) {
        boolean nextIsBool = i + 1 < args.length && parseBoolean(args[i + 1]) != null;
        text = nextIsBool ? args[++i] : "true";
      } else if (i + 1 < args.length) {
        text = args[++i];
      } else {
        throw new UsageException(name + " needs a value (" + flag.placeholder() + ")");
      }
      if (flag.isRepeatable()) {
        routes.add(new Value(text, name));
      } else if (values.put(flag, new Value(text, name)) != null) {
        throw new UsageException(name + " is given more than once");
      }
    }
  }

  private void readEnv(Map<String, String> env) {
    // The token pair is one choice: a token flag on the command line overrides both variables.
    boolean tokenOnCommandLine = values.containsKey(Flag.TOKEN) || values.containsKey(Flag.TOKEN_FILE);
    for (Flag flag : Flag.values()) {
      boolean tokenFlag = flag == Flag.TOKEN || flag == Flag.TOKEN_FILE;
      String text = env.get(flag.env());
      if (flag.isRepeatable()) {
        if (routes.isEmpty() && text != null && !text.isBlank()) {
          for (String route : text.trim().split("\\s+")) {
            routes.add(new Value(route, flag.env()));
          }
        }
        continue;
      }
      if (values.containsKey(flag) || text == null || text.isEmpty() || (tokenFlag && tokenOnCommandLine)) {
        continue;
      }
      values.put(flag, new Value(text, flag.env()));
    }
  }

  /**
   * Fills the flags still unset from the --config-file properties, the lowest layer: flags win
   * over variables, variables over the file, the file over defaults.
   */
  private void readConfigFile() throws UsageException {
    Value file = values.get(Flag.CONFIG_FILE);
    if (file == null) {
      return;
    }
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(Path.of(file.text().trim()), StandardCharsets.UTF_8)) {
      properties.load(in);
    } catch (IOException | IllegalArgumentException e) {
      throw new UsageException(file.source() + ": cannot read '" + file.text() + "' (" + e.getMessage() + ")");
    }
    boolean tokenSet = values.containsKey(Flag.TOKEN) || values.containsKey(Flag.TOKEN_FILE);
    for (String key : new java.util.TreeSet<>(properties.stringPropertyNames())) {
      Flag flag = Flag.byFlag("--" + key.trim());
      String where = file.text().trim() + ": " + key.trim();
      if (flag == null || flag == Flag.CONFIG_FILE) {
        throw new UsageException(file.text().trim() + ": unknown key '" + key + "'; keys are flag names without the dashes");
      }
      String text = properties.getProperty(key).trim();
      if (flag.isRepeatable()) {
        if (routes.isEmpty()) {
          for (String route : text.split("\\s+")) {
            routes.add(new Value(route, where));
          }
        }
      } else if (!values.containsKey(flag)
          && !(tokenSet && (flag == Flag.TOKEN || flag == Flag.TOKEN_FILE))) {
        values.put(flag, new Value(text, where));
      }
    }
  }

  static Boolean parseBoolean(String text) {
    switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "true":
      case "yes":
      case "on":
      case "1":
        return Boolean.TRUE;
      case "false":
      case "no":
      case "off":
      case "0":
        return Boolean.FALSE;
      default:
        return null;
    }
  }
}
