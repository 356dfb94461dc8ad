package dev.drawbridge.proxy.route;

import dev.drawbridge.proxy.config.RouteSettings;
import java.util.List;
import java.util.Locale;

/**
 * Picks the route of a client request: the first route, in configuration order, whose host and
 * path prefix both match. Matching uses the raw request target, exactly what the backend will see.
 * Because it is raw, a target with a {@code .} or {@code ..} segment (also percent-encoded or with
 * {@code ;} parameters) is refused when routes exist: a backend that normalises {@code
 * /public/../admin} would otherwise serve {@code /admin} through the {@code /public} route.
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

  /** The target's path holds a dot segment: 400. */
  public record DotSegment() implements Decision {}

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
    String path = query < 0 ? target : target.substring(0, query);
    if (hasDotSegment(path)) {
      return new DotSegment();
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
    for (String segment : path.split("/", -1)) {
      int semicolon = segment.indexOf(';');
      String bare = (semicolon < 0 ? segment : segment.substring(0, semicolon)).toLowerCase(Locale.ROOT).replace("%2e", ".");
      if (bare.equals(".") || bare.equals("..")) {
        return true;
      }
    }
    return false;
  }
}
