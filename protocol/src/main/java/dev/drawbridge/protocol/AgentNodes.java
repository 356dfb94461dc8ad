package dev.drawbridge.protocol;

import java.util.ArrayList;
import java.util.List;

/**
 * The value of {@link Protocol#AGENT_NODES_HEADER}: the proxy nodes an agent is attached to and the
 * state of its link to each, as comma-separated {@code node=state} entries. The proxy only shows it
 * to operators, so reading is lenient: malformed entries are skipped and the list is bounded.
 */
public final class AgentNodes {

  /** Most entries read from one header. */
  public static final int MAX_ENTRIES = 64;

  /** Longest node name kept. */
  public static final int MAX_NODE_LENGTH = 128;

  /** Longest state kept. */
  public static final int MAX_STATE_LENGTH = 16;

  /** One node as the agent reports it, e.g. {@code edge.example.com/10.0.0.5:443} and {@code connected}. */
  public record Entry(String node, String state) {}

  private AgentNodes() {}

  /** The header value for {@code entries}; node names must not contain ',' or '='. */
  public static String format(List<Entry> entries) {
    StringBuilder value = new StringBuilder();
    for (Entry entry : entries) {
      if (value.length() > 0) {
        value.append(',');
      }
      value.append(entry.node()).append('=').append(entry.state());
    }
    return value.toString();
  }

  /** The entries of a header value; empty for null or nonsense. */
  public static List<Entry> parse(String header) {
    List<Entry> entries = new ArrayList<>();
    if (header == null) {
      return entries;
    }
    for (String part : header.split(",")) {
      if (entries.size() == MAX_ENTRIES) {
        break;
      }
      int equals = part.lastIndexOf('=');
      if (equals <= 0) {
        continue;
      }
      String node = part.substring(0, equals).trim();
      String state = part.substring(equals + 1).trim();
      if (isShownSafely(node, MAX_NODE_LENGTH) && isShownSafely(state, MAX_STATE_LENGTH)) {
        entries.add(new Entry(node, state));
      }
    }
    return entries;
  }

  /** Non-empty visible ASCII within {@code max} characters, so it can go on a page and in a log. */
  private static boolean isShownSafely(String text, int max) {
    if (text.isEmpty() || text.length() > max) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c <= 0x20 || c >= 0x7F) {
        return false;
      }
    }
    return true;
  }
}
