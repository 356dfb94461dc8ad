package dev.drawbridge.it.admin;

import dev.drawbridge.it.support.ProxyServer;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

/** Plain GETs of the proxy's operator endpoints, with or without the realm's admin login. */
final class AdminHttp {

  /**
   * Generous: the first call of a fresh proxy also loads and starts JSON-B, which took more than
   * 30 s in embedded Tomcat on a machine whose cores were all busy.
   */
  static final Duration TIMEOUT = Duration.ofSeconds(120);

  static final HttpClient CLIENT =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();

  private AdminHttp() {}

  /** {@code Authorization} value for the realm's admin user. */
  static String adminLogin() {
    return basic(ProxyServer.ADMIN_USER, ProxyServer.ADMIN_PASSWORD);
  }

  static String basic(String user, String password) {
    return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  /** GET {@code uri}, sending {@code authorization} unless it is null. */
  static HttpResponse<String> get(URI uri, String authorization) throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET();
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonObject json(String body) {
    try (var reader = Json.createReader(new StringReader(body))) {
      return reader.readObject();
    }
  }
}
