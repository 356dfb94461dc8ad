package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Nginx;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.Tokens;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A service's redirects to itself, through a route that strips its prefix: nginx serving a site as
 * files answers a directory asked for without its slash with an absolute redirect built from the
 * {@code Host} it got and the port it listens on, an address no client outside can reach. The
 * client must get the public address, under the route's prefix, with the agent's default {@code
 * Host} and with {@code --host-header rewrite}, and a browser-like client must land on the page.
 */
@Timeout(120)
class RedirectsIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String PAGE = "<html><body>the docs</body></html>\n";

  @TempDir static Path dir;

  private static Nginx site;
  private static ProxyServer proxy;
  private static String token;
  private AgentProcess agent;

  @BeforeAll
  static void start() throws IOException {
    assumeTrue(Nginx.isInstalled(), "nginx is not installed");
    Path root = Files.createDirectories(dir.resolve("site"));
    Files.writeString(Files.createDirectories(root.resolve("docs")).resolve("index.html"), PAGE);
    site = Nginx.serveFiles(root);
    token = Tokens.random();
    proxy = ProxyServer.start(ProxyConfig.singleBackend("site", Tokens.sha256Hex(token))
        .set("routes", List.of(Map.of("pathPrefix", "/site", "stripPrefix", true, "backend", "site"))));
  }

  @AfterAll
  static void stop() throws Exception {
    for (AutoCloseable part : new AutoCloseable[] {proxy, site}) {
      if (part != null) {
        part.close();
      }
    }
  }

  @AfterEach
  void stopAgent() {
    if (agent != null) {
      agent.close();
    }
  }

  @Test
  void aDirectorysRedirectPointsAtThePublicAddressUnderThePrefix() throws Exception {
    connect();
    assertRedirectsToPublicDirectory();
  }

  @Test
  void withTheTargetsHostTheRedirectIsMadePublicToo() throws Exception {
    connect("--host-header", "rewrite");
    assertRedirectsToPublicDirectory();
  }

  private void connect(String... extraFlags) {
    List<String> flags = new ArrayList<>(AgentProcess.flags(proxy.baseUrl(), site.url(), "site", token));
    flags.addAll(List.of(extraFlags));
    agent = AgentProcess.start(flags);
    agent.awaitLine(AgentProcess.CONNECTED, WAIT);
  }

  private static void assertRedirectsToPublicDirectory() throws Exception {
    URI docs = URI.create(proxy.baseUrl() + "/site/docs");
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();
    HttpResponse<String> redirect = client.send(
        HttpRequest.newBuilder(docs).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(301, redirect.statusCode(), redirect.body());
    assertEquals(proxy.baseUrl() + "/site/docs/", redirect.headers().firstValue("Location").orElse(null));

    HttpClient following = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT)
        .followRedirects(HttpClient.Redirect.NORMAL).build();
    HttpResponse<String> page = following.send(
        HttpRequest.newBuilder(docs).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, page.statusCode());
    assertEquals(PAGE, page.body());
    assertEquals(URI.create(proxy.baseUrl() + "/site/docs/"), page.uri());
  }
}
