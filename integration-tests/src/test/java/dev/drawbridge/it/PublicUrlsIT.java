package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.Tokens;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A service that hands out absolute URLs (a package registry's download links) works through the
 * tunnel with the defaults: the WAR at the root, the agent passing the client's Host. Deployed
 * under a sub-path and behind a route that strips its prefix, X-Forwarded-Prefix completes the
 * URLs. Each URL the service hands out is then fetched through the tunnel, as an installer would.
 */
@Timeout(120)
class PublicUrlsIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String PACKAGE = "/files/demo-1.0.tgz";
  private static final String PACKAGE_BYTES = "the package itself";

  private final String token = Tokens.random();
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(WAIT).build();
  private final List<AutoCloseable> started = new ArrayList<>();
  private Backend registry;

  @AfterEach
  void stopAll() throws Exception {
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).close();
    }
  }

  @Test
  void atTheRootWithTheAgentsDefaultsTheUrlsTheServiceBuildsWork() throws Exception {
    ProxyServer proxy = start(ProxyConfig.singleBackend("default", Tokens.sha256Hex(token)),
        ProxyServer.Options.DEFAULT.atRoot(), List.of());

    String url = get(proxy.baseUrl() + "/index", Map.of()).body();

    assertEquals(proxy.baseUrl() + PACKAGE, url, "a public URL, not the service's private address");
    RecordedRequest seen = registry.takeRequest(WAIT);
    assertEquals(Optional.of("127.0.0.1:" + proxy.port()), seen.header("Host"), "the client's Host");
    assertEquals(Optional.empty(), seen.header("X-Forwarded-Prefix"), "nothing removed at the root");
    assertFetches(url);
  }

  @Test
  void underASubPathBehindAStrippingRouteThePrefixCompletesTheUrls() throws Exception {
    ProxyConfig config = ProxyConfig.singleBackend("default", Tokens.sha256Hex(token))
        .set("routes", List.of(Map.of("pathPrefix", "/registry", "stripPrefix", true, "backend", "default")));
    ProxyServer proxy = start(config, ProxyServer.Options.DEFAULT, List.of());

    String url = get(proxy.baseUrl() + "/registry/index", Map.of("X-Forwarded-Prefix", "/forged")).body();

    assertEquals("http://127.0.0.1:" + proxy.port() + "/drawbridge/registry" + PACKAGE, url,
        "the context path and the stripped prefix, never a client's own prefix");
    RecordedRequest seen = registry.takeRequest(WAIT);
    assertEquals("/index", seen.target());
    assertEquals(List.of("/drawbridge/registry"), seen.headerValues("X-Forwarded-Prefix"));
    assertFetches(url);
  }

  @Test
  void rewritingTheHostSendsTheTargetsOwnNameAndKeepsTheClientsInXForwardedHost() throws Exception {
    ProxyServer proxy = start(ProxyConfig.singleBackend("default", Tokens.sha256Hex(token)),
        ProxyServer.Options.DEFAULT.atRoot(), List.of("--host-header", "rewrite"));

    String url = get(proxy.baseUrl() + "/index", Map.of()).body();

    assertEquals(registry.url() + PACKAGE, url, "the documented cost of rewriting: private URLs");
    RecordedRequest seen = registry.takeRequest(WAIT);
    assertEquals(Optional.of("127.0.0.1:" + registry.port()), seen.header("Host"));
    assertEquals(Optional.of("127.0.0.1:" + proxy.port()), seen.header("X-Forwarded-Host"));
  }

  /** The registry, the proxy as {@code options} say, and an agent with {@code agentFlags} added. */
  private ProxyServer start(ProxyConfig config, ProxyServer.Options options, List<String> agentFlags) {
    registry = Backend.start()
        .respondTo("/index", Responders.absoluteUrlOf(PACKAGE))
        .respondTo(PACKAGE, Responders.fixed(200, "application/octet-stream", PACKAGE_BYTES));
    started.add(registry);
    ProxyServer proxy = ProxyServer.start(config, options);
    started.add(proxy);
    List<String> flags = new ArrayList<>(AgentProcess.flags(proxy.baseUrl(), registry.url(), "default", token));
    flags.addAll(agentFlags);
    AgentProcess agent = AgentProcess.start(flags);
    started.add(agent);
    agent.awaitLine(AgentProcess.CONNECTED, WAIT);
    return proxy;
  }

  private void assertFetches(String url) throws Exception {
    HttpResponse<String> download = get(url, Map.of());
    assertEquals(200, download.statusCode(), download.body());
    assertEquals(PACKAGE_BYTES, download.body());
    assertTrue(registry.takeRequest(WAIT).target().endsWith(PACKAGE), "the download went through the tunnel");
  }

  private HttpResponse<String> get(String url, Map<String, String> headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(WAIT);
    headers.forEach(request::header);
    HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), url + ": " + response.body());
    return response;
  }
}
