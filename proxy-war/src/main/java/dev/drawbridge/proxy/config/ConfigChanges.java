package dev.drawbridge.proxy.config;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/** What a reload changes, in one line for the log: backends added, removed and changed, other keys. */
final class ConfigChanges {

  private ConfigChanges() {}

  static String describe(ProxySettings before, ProxySettings after) {
    List<String> parts = new ArrayList<>();
    List<String> added = new ArrayList<>();
    List<String> changed = new ArrayList<>();
    for (BackendSettings backend : after.backends().values()) {
      BackendSettings old = before.backends().get(backend.id());
      if (old == null) {
        added.add(backend.id());
      } else if (!describe(old).equals(describe(backend))) {
        changed.add(backend.id());
      }
    }
    List<String> removed = new ArrayList<>();
    for (String id : before.backends().keySet()) {
      if (!after.backends().containsKey(id)) {
        removed.add(id);
      }
    }
    addList(parts, "backends added", added);
    addList(parts, "backends removed", removed);
    addList(parts, "backends changed", changed);
    if (!routes(before).equals(routes(after))) {
      parts.add("routes changed (" + after.routes().size() + " now)");
    }
    List<String> keys = new ArrayList<>();
    for (RecordComponent component : ProxySettings.class.getRecordComponents()) {
      String name = component.getName();
      if (name.equals("backends") || name.equals("routes")) {
        continue;
      }
      try {
        if (!Objects.equals(component.getAccessor().invoke(before), component.getAccessor().invoke(after))) {
          keys.add(name);
        }
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot read " + name + " of the settings", e);
      }
    }
    addList(parts, "settings changed", keys);
    return parts.isEmpty() ? "no setting changed (only the file's text)" : String.join("; ", parts);
  }

  private static void addList(List<String> parts, String what, List<String> names) {
    if (!names.isEmpty()) {
      parts.add(what + " " + String.join(", ", names));
    }
  }

  /** A backend's settings as comparable text; token digests are arrays, which records compare by identity. */
  private static String describe(BackendSettings backend) {
    StringBuilder text = new StringBuilder();
    for (byte[] digest : backend.agentTokenSha256()) {
      text.append(HexFormat.of().formatHex(digest)).append(',');
    }
    return text.append(backend.maxQueued()).append(',').append(backend.queueTimeout()).append(',')
        .append(backend.responseTimeout()).append(',').append(backend.maxInFlight()).toString();
  }

  private static List<String> routes(ProxySettings settings) {
    List<String> routes = new ArrayList<>();
    for (RouteSettings route : settings.routes()) {
      routes.add(route.toString());
    }
    return routes;
  }
}
