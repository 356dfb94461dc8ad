package dev.drawbridge.agent;

import java.util.Locale;
import java.util.regex.Pattern;

/** Whether a URL's host is this machine, decided from the text alone (no DNS lookup to spoof). */
final class Loopback {

  private static final Pattern IPV4_LOOPBACK = Pattern.compile("127(\\.\\d{1,3}){3}");

  private Loopback() {}

  static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String bare = host.toLowerCase(Locale.ROOT);
    if (bare.startsWith("[") && bare.endsWith("]")) {
      bare = bare.substring(1, bare.length() - 1);
    }
    return bare.equals("localhost") || bare.endsWith(".localhost") || IPV4_LOOPBACK.matcher(bare).matches()
        || bare.equals("::1") || bare.equals("0:0:0:0:0:0:0:1");
  }
}
