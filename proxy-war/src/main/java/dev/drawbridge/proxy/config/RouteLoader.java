package dev.drawbridge.proxy.config;

import dev.drawbridge.proxy.route.AddressRules;
import dev.drawbridge.proxy.route.Cidr;
import dev.drawbridge.proxy.route.Router;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/** Validates the {@code routes} list of the configuration file. */
final class RouteLoader {

  private static final Pattern HOST = Pattern.compile("(\\*\\.)?[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?|\\[[0-9a-f:.]+\\]");
  private static final Pattern ROLE = Pattern.compile("[!-~]{1,128}");

  private RouteLoader() {}

  static List<RouteSettings> validate(List<ConfigFile.RouteEntry> entries, Set<String> backendIds, String source)
      throws ConfigException {
    List<RouteSettings> routes = new ArrayList<>();
    if (entries == null) {
      return routes;
    }
    for (int i = 0; i < entries.size(); i++) {
      routes.add(validate(entries.get(i), "routes[" + i + "]", backendIds, source));
    }
    return List.copyOf(routes);
  }

  private static RouteSettings validate(ConfigFile.RouteEntry entry, String key, Set<String> backendIds, String source)
      throws ConfigException {
    check(entry != null, source, key, "must be an object");
    check(entry.backend != null && backendIds.contains(entry.backend), source, key + ".backend", "must name a configured backend");
    String host = entry.host == null ? null : entry.host.trim().toLowerCase(Locale.ROOT);
    check(host == null || HOST.matcher(host).matches(), source, key + ".host",
        "must be a host name, or *.domain for every subdomain of domain");
    String prefix = entry.pathPrefix;
    if (prefix != null) {
      check(prefix.startsWith("/") && prefix.indexOf('?') < 0 && !Router.hasDotSegment(prefix), source, key + ".pathPrefix",
          "must start with '/' and hold no '?', '.' or '..' segment");
      while (prefix.length() > 1 && prefix.endsWith("/")) {
        prefix = prefix.substring(0, prefix.length() - 1);
      }
    }
    check(!entry.stripPrefix || prefix != null, source, key + ".stripPrefix", "needs a pathPrefix to strip");
    List<String> roles = entry.requireRoles == null ? List.of() : List.copyOf(entry.requireRoles);
    for (int i = 0; i < roles.size(); i++) {
      check(roles.get(i) != null && ROLE.matcher(roles.get(i)).matches(), source, key + ".requireRoles[" + i + "]",
          "must be a role name of 1 to 128 visible characters");
    }
    AddressRules addresses =
        new AddressRules(cidrs(entry.allow, key + ".allow", source), cidrs(entry.deny, key + ".deny", source));
    check(entry.rateLimitPerSecond >= 0 && entry.rateLimitPerSecond <= 1_000_000, source, key + ".rateLimitPerSecond",
        "must be between 0 (no limit) and 1000000");
    check(entry.rateLimitBurst >= 0 && entry.rateLimitBurst <= 1_000_000, source, key + ".rateLimitBurst",
        "must be between 0 and 1000000");
    // A burst below one would refuse every request; default it to one second's worth.
    int burst = Math.max(entry.rateLimitBurst, (int) Math.max(1, Math.ceil(entry.rateLimitPerSecond)));
    return new RouteSettings(host, prefix, entry.stripPrefix, entry.backend, roles, entry.forwardCredentials,
        addresses, entry.rateLimitPerSecond, entry.rateLimitBurst > 0 ? entry.rateLimitBurst : burst, entry.upgrades);
  }

  private static List<Cidr> cidrs(List<String> texts, String key, String source) throws ConfigException {
    List<Cidr> cidrs = new ArrayList<>();
    if (texts == null) {
      return cidrs;
    }
    for (int i = 0; i < texts.size(); i++) {
      try {
        cidrs.add(Cidr.parse(texts.get(i)));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(source + ": key '" + key + "[" + i + "]': " + e.getMessage());
      }
    }
    return List.copyOf(cidrs);
  }

  private static void check(boolean condition, String source, String key, String reason) throws ConfigException {
    if (!condition) {
      throw new ConfigException(source + ": key '" + key + "': " + reason);
    }
  }
}
