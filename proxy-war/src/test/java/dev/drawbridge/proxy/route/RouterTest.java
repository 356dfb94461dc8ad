package dev.drawbridge.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drawbridge.proxy.config.RouteSettings;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class RouterTest {

  private static RouteSettings route(String host, String prefix, boolean strip, String backend) {
    return new RouteSettings(host, prefix, strip, backend, List.of(), false, AddressRules.NONE, 0, 1, true);
  }

  /** Listed in the order that makes "first match wins" visible. */
  private static final Router ROUTER =
      new Router(
          List.of(
              route("api.example.com", "/v1", true, "api-v1"),
              route("api.example.com", null, false, "api"),
              route("*.apps.example.com", null, false, "apps"),
              route(null, "/static", false, "static"),
              route(null, "/wiki", true, "wiki")),
          "first");

  @ParameterizedTest(name = "{0} {1} -> {2} {3}")
  @CsvSource({
    // exact host, prefix stripped: the first route wins over the second
    "api.example.com,    /v1/users?x=1,  api-v1, /users?x=1",
    "api.example.com,    /v1,            api-v1, /",
    "api.example.com,    /v1?q,          api-v1, /?q",
    "API.Example.COM.,   /v1/a,          api-v1, /a",
    // segment-aware: /v1x is not under /v1
    "api.example.com,    /v1x,           api,    /v1x",
    // wildcard: one or more labels, never the bare domain
    "a.apps.example.com, /x,             apps,   /x",
    "a.b.apps.example.com, /x,           apps,   /x",
    "apps.example.com,   /static/s.css,  static, /static/s.css",
    "evilapps.example.com, /static,      static, /static",
    // a stripped prefix leaves at least "/"
    "other.example,      /wiki,          wiki,   /",
    "other.example,      /wiki/Main%2FPage?a=b, wiki, /Main%2FPage?a=b",
  })
  void picksTheFirstMatchingRoute(String host, String target, String backend, String forwarded) {
    Router.Routed routed = (Router.Routed) ROUTER.decide(host, target);
    assertEquals(backend, routed.backend());
    assertEquals(forwarded, routed.target());
  }

  @ParameterizedTest
  @CsvSource({"other.example, /", "other.example, /staticx", "other.example, /wikipedia", "apps.example.com, /x"})
  void noMatchIsNoRoute(String host, String target) {
    assertEquals(new Router.NoRoute(), ROUTER.decide(host, target));
  }

  @ParameterizedTest(name = "{0} -> {1} {2}")
  @CsvSource({
    // matched and forwarded as resolved: no route can be left through a dot segment
    "/static/../wiki/Main,   wiki,   /Main",
    "/static/%2e%2e/wiki/a,  wiki,   /a",
    "/static/%2E./wiki/a?x,  wiki,   /a?x",
    "/static/..;x/wiki/a,    wiki,   /a",
    "/wiki/../static/a,      static, /static/a",
    // as apt asks for a flat repository's index
    "/static/repo/./Packages, static, /static/repo/Packages",
    "/static/a/.,            static, /static/a/",
    "/static/a/b/..,         static, /static/a/",
    "/static/.;p/a,          static, /static/a",
  })
  void resolvesDotSegmentsAndRoutesWhatRemains(String target, String backend, String forwarded) {
    Router.Routed routed = (Router.Routed) ROUTER.decide("other.example", target);
    assertEquals(backend, routed.backend());
    assertEquals(forwarded, routed.target());
  }

  @ParameterizedTest
  @CsvSource({"/..", "/static/../..", "/%2e%2e/static", "/static/..;x/../x"})
  void refusesADotDotAboveTheRoot(String target) {
    assertEquals(new Router.AboveRoot(), ROUTER.decide("other.example", target));
  }

  @ParameterizedTest
  @CsvSource({"/a/./b, /a/b", "/a/b/../c, /a/c", "/a/., /a/", "/a/.., /", "/./, /", "/a//../b, /a/b", "/a.b/..c/.d., /a.b/..c/.d."})
  void removesDotSegmentsAsRfc3986Does(String path, String expected) {
    assertEquals(expected, Router.withoutDotSegments(path));
  }

  @Test
  void withoutRoutesEverythingGoesToTheDefaultBackendUnchanged() {
    Router none = new Router(List.of(), "default");
    assertEquals(new Router.Routed(null, "default", "/a/../b?x"), none.decide(null, "/a/../b?x"));
  }

  @ParameterizedTest
  @CsvSource({"api.example.com, /v1/users, /v1", "api.example.com, /users, ''", "h, /static/x, ''", "h, /wiki/Main, /wiki"})
  void theStrippedPrefixIsWhatTheRouteRemoved(String host, String target, String stripped) {
    assertEquals(stripped, ((Router.Routed) ROUTER.decide(host, target)).strippedPrefix());
  }

  @Test
  void dotsInsideSegmentsAreFine() {
    assertEquals("static", ((Router.Routed) ROUTER.decide("h", "/static/a..b/.well-known/x.y")).backend());
    for (String path : List.of("/static/...", "/static/%2e%2e%2e", "/static/%2ex", "/static/%2", "/static/.%2", "/static/;x")) {
      assertEquals(path, ((Router.Routed) ROUTER.decide("h", path)).target(), "not a dot segment, forwarded as it came");
    }
  }
}
