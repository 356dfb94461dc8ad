package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.TunnelFixture;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Routes through the real WAR and one agent serving two backends with {@code --route}: host and
 * path matching with prefix stripping, 404 for no route, dot segments resolved before matching, roles through the
 * container's realm (credential not forwarded), CIDR lists (403), rate limits (429) and
 * maxInFlight (503).
 */
@Timeout(300)
class RoutingIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static TunnelFixture tunnel;
  private static AgentProcess agent;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(WAIT).build();

  @BeforeAll
  static void start() {
    tunnel =
        TunnelFixture.startWithoutAgent(
            config -> {
              // One token digest granted to two backends: one agent serves both.
              String digest = config.firstTokenSha256();
              return config
                  .backend("wiki", digest)
                  .backend("held", digest)
                  .backendSetting("maxInFlight", 1)
                  .set(
                      "routes",
                      List.of(
                          Map.of("host", "*.apps.test", "backend", "wiki"),
                          Map.of("pathPrefix", "/wiki", "stripPrefix", true, "backend", "wiki"),
                          Map.of("pathPrefix", "/ops", "backend", "default", "requireRoles", List.of("drawbridge-admin")),
                          Map.of("pathPrefix", "/lan", "backend", "default", "allow", List.of("10.0.0.0/8", "fd00::/8")),
                          Map.of("pathPrefix", "/limited", "backend", "default", "rateLimitPerSecond", 0.01, "rateLimitBurst", 1),
                          Map.of("pathPrefix", "/held", "backend", "held"),
                          Map.of("pathPrefix", "/app", "backend", "default")));
            });
    agent =
        AgentProcess.start(
            List.of("--proxy", tunnel.proxy().baseUrl(), "--token", tunnel.token(),
                "--route", "default=" + tunnel.backend().url(), "--route", "wiki=" + tunnel.backend().url() + "/w"));
    agent.awaitLine(AgentProcess.CONNECTED, TunnelFixture.STARTUP);
    agent.awaitLine(AgentProcess.CONNECTED, TunnelFixture.STARTUP);
  }

  @AfterAll
  static void stop() {
    if (agent != null) {
      agent.close();
    }
    if (tunnel != null) {
      tunnel.close();
    }
  }

  private HttpResponse<String> get(String target, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(tunnel.uri(target)).timeout(WAIT);
    if (headers.length > 0) {
      request.headers(headers);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aPathPrefixRouteStripsItsPrefixAndReachesItsOwnBackendTarget() throws Exception {
    assertEquals(200, get("/wiki/Main%2FPage?x=1").statusCode());
    assertEquals("/w/Main%2FPage?x=1", tunnel.backend().takeRequest(WAIT).target());
    assertEquals(200, get("/wiki").statusCode());
    assertEquals("/w/", tunnel.backend().takeRequest(WAIT).target());
  }

  @Test
  void aWildcardHostRouteWinsBecauseItIsListedFirst() throws Exception {
    try (RawHttp raw = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      RawHttp.Response response = raw.exchange("GET", ProxyServer.CONTEXT_PATH + "/app/x", "a.b.apps.test", List.of());
      assertEquals(200, response.status());
    }
    assertEquals("/w/app/x", tunnel.backend().takeRequest(WAIT).target());
  }

  @Test
  void segmentAwareMatchingAndNoRouteIs404() throws Exception {
    assertEquals(200, get("/app").statusCode());
    assertEquals("/app", tunnel.backend().takeRequest(WAIT).target());
    HttpResponse<String> response = get("/application");
    assertEquals(404, response.statusCode());
    assertEquals("No route of this proxy matches this host and path.\n", response.body());
  }

  @Test
  void dotSegmentsAreResolvedBeforeRoutingSoNoRouteCanBeEscaped() throws Exception {
    tunnel.backend().drainRequests();
    try (RawHttp raw = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      RawHttp.Response escaping = raw.exchange("GET", ProxyServer.CONTEXT_PATH + "/app/%2e%2e/ops/x", tunnel.host(), List.of());
      assertEquals(401, escaping.status(), () -> "the /ops route and its login, not /app's: " + escaping.bodyText());
    }
    try (RawHttp raw = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      // As apt asks for the index of a flat repository ("deb http://host/repo ./").
      RawHttp.Response flat = raw.exchange("GET", ProxyServer.CONTEXT_PATH + "/app/repo/./Packages", tunnel.host(), List.of());
      assertEquals(200, flat.status(), flat::bodyText);
    }
    assertEquals("/app/repo/Packages", tunnel.backend().takeRequest(WAIT).target(), "forwarded as it was routed");
    assertEquals(List.of(), tunnel.backend().drainRequests(), "the escaping request never reached a backend");
  }

  @Test
  void aRoleRouteUsesTheContainerRealmAndDoesNotForwardTheCredential() throws Exception {
    HttpResponse<String> anonymous = get("/ops/x");
    assertEquals(401, anonymous.statusCode(), () -> anonymous.headers() + " " + anonymous.body() + tunnel.backend().drainRequests());
    assertTrue(anonymous.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"));
    String wrong = "Basic " + Base64.getEncoder().encodeToString("admin:nope".getBytes(StandardCharsets.UTF_8));
    assertEquals(401, get("/ops/x", "Authorization", wrong).statusCode());
    String right =
        "Basic " + Base64.getEncoder().encodeToString((ProxyServer.ADMIN_USER + ":" + ProxyServer.ADMIN_PASSWORD).getBytes(StandardCharsets.UTF_8));
    assertEquals(200, get("/ops/x", "Authorization", right).statusCode());
    RecordedRequest seen = tunnel.backend().takeRequest(WAIT);
    assertEquals("/ops/x", seen.target());
    assertEquals(List.of(), seen.headerValues("Authorization"), "the proxy consumed the credential");
  }

  @Test
  void anAddressOutsideTheAllowListGets403() throws Exception {
    HttpResponse<String> response = get("/lan/x");
    assertEquals(403, response.statusCode());
    assertEquals("Requests from your address are not allowed on this path.\n", response.body());
  }

  @Test
  void aRateLimitedRouteAnswers429WithRetryAfter() throws Exception {
    assertEquals(200, get("/limited").statusCode());
    tunnel.backend().takeRequest(WAIT);
    HttpResponse<String> second = get("/limited");
    assertEquals(429, second.statusCode());
    assertEquals("100", second.headers().firstValue("Retry-After").orElse("(none)"));
  }

  @Test
  void maxInFlightRefusesTheRequestBeyondItWith503() throws Exception {
    // Backend "held" has no agent: the first request waits in its queue and counts as in flight.
    CompletableFuture<HttpResponse<String>> first =
        client.sendAsync(HttpRequest.newBuilder(tunnel.uri("/held/1")).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> tunnel.status().backend("held").queueDepth() == 1);
    HttpResponse<String> second = get("/held/2");
    assertEquals(503, second.statusCode());
    assertTrue(second.headers().firstValue("Retry-After").isPresent());
    assertEquals("Backend 'held' has too many requests in progress; retry shortly.\n", second.body());
    first.cancel(true);
  }
}
