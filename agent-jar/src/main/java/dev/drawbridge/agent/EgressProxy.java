package dev.drawbridge.agent;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Map;

/**
 * Picks the HTTP forward proxy for calls to the Drawbridge proxy: {@code --egress-proxy} when
 * given ({@code none} = direct), else the {@code https_proxy} (or, for an {@code http://} proxy
 * URL, {@code http_proxy}) variable that corporate networks set, unless {@code no_proxy} names
 * the host. Only {@code http://host:port} proxies are accepted: credentials in a proxy URL would
 * end up in process listings and logs.
 */
final class EgressProxy {

  private EgressProxy() {}

  /** The forward proxy to use, or null for a direct connection. */
  static URI choose(URI proxy, String flagValue, String flagSource, Map<String, String> env) throws UsageException {
    String text = flagValue;
    String source = flagSource;
    if (text == null) {
      String name = proxy.getScheme().equals("https") ? "https_proxy" : "http_proxy";
      text = variable(env, name);
      source = name;
      // A loopback proxy URL is this machine: a corporate proxy variable is never meant for it.
      if (text == null || Loopback.isLoopback(proxy.getHost()) || bypassed(proxy.getHost(), variable(env, "no_proxy"))) {
        return null;
      }
    }
    text = text.trim();
    if (text.equalsIgnoreCase("none") || text.isEmpty()) {
      return null;
    }
    // Some tools write the variable without a scheme.
    String withScheme = text.contains("://") ? text : "http://" + text;
    URI uri;
    try {
      uri = new URI(withScheme);
    } catch (URISyntaxException e) {
      throw new UsageException(source + ": '" + text + "' is not a valid proxy URL");
    }
    if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null || uri.getRawUserInfo() != null) {
      throw new UsageException(source + ": the egress proxy must be written http://host:port, without credentials");
    }
    int port = uri.getPort() < 0 ? 80 : uri.getPort();
    return URI.create("http://" + uri.getHost() + ":" + port);
  }

  private static String variable(Map<String, String> env, String lowerName) {
    String value = env.get(lowerName);
    if (value == null || value.isBlank()) {
      value = env.get(lowerName.toUpperCase(Locale.ROOT));
    }
    return value == null || value.isBlank() ? null : value;
  }

  /** True when the comma-separated {@code no_proxy} list names {@code host} or a domain of it. */
  static boolean bypassed(String host, String noProxy) {
    if (noProxy == null) {
      return false;
    }
    String lower = host.toLowerCase(Locale.ROOT);
    for (String entry : noProxy.split(",")) {
      String e = entry.trim().toLowerCase(Locale.ROOT);
      if (e.equals("*")) {
        return true;
      }
      if (e.isEmpty()) {
        continue;
      }
      String domain = e.startsWith(".") ? e.substring(1) : e;
      if (lower.equals(domain) || lower.endsWith("." + domain)) {
        return true;
      }
    }
    return false;
  }
}
