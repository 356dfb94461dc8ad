package dev.drawbridge.it.support;

import dev.drawbridge.protocol.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * The proxy's admin status API ({@code GET /_drawbridge/admin/api/status}) as the operator sees it,
 * read with the realm's admin user. Tests use it to prove that exchanges are freed.
 *
 * @param liveExchanges exchanges queued or in flight, all backends together
 * @param backends one entry per configured backend
 */
public record AdminStatus(String version, int liveExchanges, List<BackendStatus> backends, ConfigStatus config) {

  /** The running configuration: version, hash, reloads by result, the last refused reload. */
  public record ConfigStatus(
      String file, long version, String sha256, String loadedAt, java.util.Map<String, Long> reloads, ConfigError lastError) {}

  /** A refused reload. */
  public record ConfigError(String at, String message) {}

  /** One backend's queue, parked polls, in-flight count and open upgraded connections (WebSockets). */
  public record BackendStatus(
      String id, int queueDepth, int waitingPolls, int inFlight, List<AgentStatus> agents, int upgraded) {}

  /** One agent the proxy considers connected, with the proxy nodes it reports being attached to. */
  public record AgentStatus(
      String id, String version, String remoteAddress, String connectedSince, String lastSeen, int inFlight,
      String token, List<NodeStatus> nodes) {}

  /** A proxy node as an agent reports it, and its link's state. */
  public record NodeStatus(String node, String state) {}

  /** Path of the call under the proxy's base URL. */
  public static final String PATH = "/_drawbridge/admin/api/status";

  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CALL_TIMEOUT).build();

  /** Reads the status of the proxy at {@code proxyBaseUrl} (e.g. {@code http://127.0.0.1:1234/drawbridge}). */
  public static AdminStatus read(String proxyBaseUrl) {
    try {
      return Json.fromJson(readJson(proxyBaseUrl), AdminStatus.class);
    } catch (IOException e) {
      throw new AssertionError("status API answer is not the expected JSON", e);
    }
  }

  /** The status API's answer as it came, for what this record leaves out (recent failures). */
  public static String readJson(String proxyBaseUrl) {
    String credentials = ProxyServer.ADMIN_USER + ":" + ProxyServer.ADMIN_PASSWORD;
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(proxyBaseUrl + PATH))
            .timeout(CALL_TIMEOUT)
            .header(
                "Authorization",
                "Basic " + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)))
            .GET()
            .build();
    try {
      HttpResponse<String> response = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new AssertionError("status API answered " + response.statusCode() + ": " + response.body());
      }
      return response.body();
    } catch (IOException e) {
      throw new AssertionError("status API call failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** The backend with this id. */
  public BackendStatus backend(String id) {
    return backends.stream()
        .filter(b -> b.id().equals(id))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no backend '" + id + "' in " + this));
  }

  /** Queued exchanges over all backends. */
  public int totalQueued() {
    return backends.stream().mapToInt(BackendStatus::queueDepth).sum();
  }

  /** True when nothing is queued or in flight anywhere: every exchange was freed. */
  public boolean idle() {
    return liveExchanges == 0
        && backends.stream().allMatch(b -> b.queueDepth() == 0 && b.inFlight() == 0);
  }
}
