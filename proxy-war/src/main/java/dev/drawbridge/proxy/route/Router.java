package dev.drawbridge.proxy.route;

import dev.drawbridge.proxy.config.RouteSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Picks the route of a client request: the first route, in configuration order, whose host and
 * path prefix both match. Matching uses the request target exactly as the backend will see it.
 * When routes exist, a path with {@code .} or {@code ..} segments (also percent-encoded or with
 * {@code ;} parameters) is first resolved as RFC 3986 resolves them and as servers do, and that
 * path is both matched and forwarded: {@code /public/../admin} is {@code /admin}, routed as such,
 * so it cannot reach a backend's {@code /admin} through the {@code /public} route, while {@code
 * /repo/./Packages} (as apt asks for a flat repository) is served. A {@code ..} above the root is
 * refused.
 */
public final class Router {

  /** What to do with a request. */
  public sealed interface Decision {}

  /** Forward to {@code backend}, as {@code target}; {@code route} is null when no routes exist. */
  public record Routed(RouteSettings route, String backend, String target) implements Decision {

    /** The part of the path the route removed ({@code stripPrefix}), "" when it removed none. */
    public String strippedPrefix() {
      return route != null && route.stripPrefix() && !route.pathPrefix().equals("/") ? route.pathPrefix() : "";
    }
  }

  /** Routes exist and none matches: 404. */
  public record NoRoute() implements Decision {}

  /** A {@code ..} segment of the target's path climbs above the root: 400. */
  public record AboveRoot() implements Decision {}

  private final List<RouteSettings> routes;
  private final String defaultBackend;

  /** @param defaultBackend backend taking every request when {@code routes} is empty */
  public Router(List<RouteSettings> routes, String defaultBackend) {
    this.routes = List.copyOf(routes);
    this.defaultBackend = defaultBackend;
  }

  /**
   * The decision for a request naming {@code host} (as the container parsed it, without port) and
   * the raw {@code target} (path and query, below the context path).
   */
  public Decision decide(String host, String target) {
    if (routes.isEmpty()) {
      return new Routed(null, defaultBackend, target);
    }
    int query = target.indexOf('?');
    String path = withoutDotSegments(query < 0 ? target : target.substring(0, query));
    if (path == null) {
      return new AboveRoot();
    }
    String normalHost = normalHost(host);
    for (RouteSettings route : routes) {
      if (hostMatches(route.host(), normalHost) && pathMatches(route.pathPrefix(), path)) {
        return new Routed(route, route.backend(), rewrite(route, path, query < 0 ? "" : target.substring(query)));
      }
    }
    return new NoRoute();
  }

  static boolean hostMatches(String pattern, String host) {
    if (pattern == null) {
      return true;
    }
    if (host == null) {
      return false;
    }
    if (pattern.startsWith("*.")) {
      String suffix = pattern.substring(1);
      return host.length() > suffix.length() && host.endsWith(suffix);
    }
    return pattern.equals(host);
  }

  static boolean pathMatches(String prefix, String path) {
    if (prefix == null || prefix.equals("/")) {
      return true;
    }
    return path.equals(prefix) || path.startsWith(prefix + "/");
  }

  private static String rewrite(RouteSettings route, String path, String query) {
    if (!route.stripPrefix() || route.pathPrefix().equals("/")) {
      return path + query;
    }
    String rest = path.substring(route.pathPrefix().length());
    return (rest.isEmpty() ? "/" : rest) + query;
  }

  private static String normalHost(String host) {
    if (host == null) {
      return null;
    }
    String lower = host.toLowerCase(Locale.ROOT);
    return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
  }

  /**
   * True when a segment of the raw {@code path} is {@code .} or {@code ..}, written plainly,
   * percent-encoded ({@code %2e}) or followed by {@code ;} parameters, as servers decode them.
   */
  public static boolean hasDotSegment(String path) {
    int start = 0;
    while (true) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = path.length();
      }
      if (dots(path, start, end) > 0) {
        return true;
      }
      if (end == path.length()) {
        return false;
      }
      start = end + 1;
    }
  }

  /**
   * {@code path} (starting with {@code /}) with its dot segments removed as RFC 3986 removes them
   * ({@code /a/./b} is {@code /a/b}, {@code /a/b/../c} is {@code /a/c}, {@code /a/.} is {@code
   * /a/}), in every spelling of {@link #hasDotSegment}; null when a {@code ..} would climb above the
   * root. A path without dot segments comes back unchanged.
   */
  static String withoutDotSegments(String path) {
    if (!hasDotSegment(path)) {
      return path;
    }
    String[] segments = path.split("/", -1);
    List<String> kept = new ArrayList<>();
    for (int i = 1; i < segments.length; i++) {
      int dots = dots(segments[i], 0, segments[i].length());
      if (dots == 0) {
        kept.add(segments[i]);
        continue;
      }
      if (dots == 2) {
        if (kept.isEmpty()) {
          return null;
        }
        kept.remove(kept.size() - 1);
      }
      if (i == segments.length - 1) {
        // A path ending in a dot segment names a directory: it keeps its trailing slash.
        kept.add("");
      }
    }
    return "/" + String.join("/", kept);
  }

  /**
   * 1 when the segment {@code path[start, end)} is {@code .}, 2 when it is {@code ..} (see {@link
   * #hasDotSegment}), else 0. Read in place: every routed request passes here.
   */
  private static int dots(String path, int start, int end) {
    int semicolon = path.indexOf(';', start);
    int bare = semicolon >= 0 && semicolon < end ? semicolon : end;
    int dots = 0;
    for (int i = start; i < bare; dots++) {
      if (path.charAt(i) == '.') {
        i++;
      } else if (i + 3 <= bare && path.regionMatches(true, i, "%2e", 0, 3)) {
        i += 3;
      } else {
        return 0;
      }
    }
    return dots <= 2 ? dots : 0;
  }
}
