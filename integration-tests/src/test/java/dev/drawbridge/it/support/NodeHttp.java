package dev.drawbridge.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;

/**
 * The calls a load balancer and an operator make to one proxy node: its readiness check, its drain
 * call (with the realm's admin login), and plain client GETs.
 */
public final class NodeHttp {

  /** Path of the readiness check under the proxy's base URL. */
  public static final String READINESS_PATH = "/_drawbridge/health/ready";

  /** Path of the drain call under the proxy's base URL. */
  public static final String DRAIN_PATH = "/_drawbridge/admin/api/drain";

  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();

  private NodeHttp() {}

  /** GET readiness of the node at {@code base}, of one backend when {@code backend} is not null. */
  public static HttpResponse<String> readiness(String base, String backend) {
    return send(HttpRequest.newBuilder(URI.create(base + READINESS_PATH + (backend == null ? "" : "?backend=" + backend)))
        .timeout(TIMEOUT).GET().build());
  }

  /** POSTs the drain call as the admin, with {@code Drawbridge-Admin-Action: action} unless null. */
  public static HttpResponse<String> drain(String base, String action) {
    String login = ProxyServer.ADMIN_USER + ":" + ProxyServer.ADMIN_PASSWORD;
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + DRAIN_PATH))
        .timeout(TIMEOUT)
        .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(login.getBytes(StandardCharsets.UTF_8)))
        .POST(HttpRequest.BodyPublishers.noBody());
    if (action != null) {
      request.header("Drawbridge-Admin-Action", action);
    }
    return send(request.build());
  }

  /** A client's GET. */
  public static HttpResponse<String> get(URI uri) {
    return send(HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build());
  }

  /** A client's GET, answered later. */
  public static CompletableFuture<HttpResponse<String>> getAsync(URI uri) {
    return CLIENT.sendAsync(HttpRequest.newBuilder(uri).timeout(TIMEOUT.multipliedBy(2)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> send(HttpRequest request) {
    try {
      return CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(request.method() + " " + request.uri() + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
