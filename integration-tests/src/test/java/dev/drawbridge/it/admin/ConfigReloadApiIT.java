package dev.drawbridge.it.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.Tokens;
import dev.drawbridge.it.support.TunnelFixture;
import jakarta.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code POST /_drawbridge/admin/api/reload}: only an admin may call it, only from the admin's own
 * page or a script (never from another site's page), and the status API and the metrics count
 * each result and show the running configuration's version and hash.
 */
@Timeout(90)
class ConfigReloadApiIT {

  private TunnelFixture tunnel;

  @AfterEach
  void stop() {
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void onlyTheAdminsOwnCallsReloadAndEveryResultIsCounted() throws Exception {
    tunnel = TunnelFixture.start();

    assertEquals(401, reload(null, Map.of("Drawbridge-Admin-Action", "reload")).statusCode(), "no login");
    HttpResponse<String> bare = reload(AdminHttp.adminLogin(), Map.of());
    assertEquals(403, bare.statusCode(), "a form of another site cannot add the header");
    assertTrue(bare.body().contains("Drawbridge-Admin-Action: reload"), bare.body());
    assertEquals(403, reload(AdminHttp.adminLogin(),
        Map.of("Drawbridge-Admin-Action", "reload", "Origin", "https://evil.example")).statusCode());
    assertEquals(403, reload(AdminHttp.adminLogin(),
        Map.of("Drawbridge-Admin-Action", "reload", "Sec-Fetch-Site", "cross-site")).statusCode());

    HttpResponse<String> unchanged = reload(AdminHttp.adminLogin(), Map.of("Drawbridge-Admin-Action", "reload",
        "Origin", "http://" + tunnel.host(), "Sec-Fetch-Site", "same-origin"));
    assertEquals(200, unchanged.statusCode(), unchanged.body());
    assertEquals("UNCHANGED", AdminHttp.json(unchanged.body()).getString("result"));

    String configFile = tunnel.proxy().configFile().toString();
    Files.writeString(tunnel.proxy().configFile(), "{\"backends\": []}");
    HttpResponse<String> invalid = reload(AdminHttp.adminLogin(), Map.of("Drawbridge-Admin-Action", "reload"));
    assertEquals(422, invalid.statusCode());
    assertEquals(configFile + ": key 'backends': list at least one backend", AdminHttp.json(invalid.body()).getString("message"));

    Files.writeString(tunnel.proxy().configFile(), ProxyConfig.singleBackend(TunnelFixture.BACKEND_ID, Tokens.sha256Hex(tunnel.token()))
        .set("retryAfterSeconds", 3).toJson());
    HttpResponse<String> applied = reload(AdminHttp.adminLogin(), Map.of("Drawbridge-Admin-Action", "reload"));
    assertEquals(200, applied.statusCode(), applied.body());
    JsonObject answer = AdminHttp.json(applied.body());
    // The file watcher may have applied it a moment before the call, which then finds it in place.
    if (answer.getString("result").equals("APPLIED")) {
      assertTrue(answer.getString("message").contains("settings changed retryAfterSeconds"), answer.getString("message"));
    } else {
      assertEquals("UNCHANGED", answer.getString("result"));
    }

    JsonObject config = AdminHttp.json(AdminHttp.get(tunnel.uri("/_drawbridge/admin/api/status"), AdminHttp.adminLogin()).body())
        .getJsonObject("config");
    assertEquals(2, config.getInt("version"));
    assertEquals(configFile, config.getString("file"));
    JsonObject reloads = config.getJsonObject("reloads");
    assertEquals(1, reloads.getInt("applied"));
    assertTrue(reloads.getInt("unchanged") >= 1 && reloads.getInt("invalid") >= 1, reloads.toString());
    assertTrue(config.getJsonObject("lastError").getString("message").contains("list at least one backend"));
    String sha256 = config.getString("sha256");

    PrometheusText metrics = PrometheusText.parse(
        AdminHttp.get(tunnel.uri("/_drawbridge/metrics"), AdminHttp.adminLogin()).body());
    assertEquals(2, metrics.value("drawbridge_config_version", Map.of()));
    assertTrue(metrics.names().contains("drawbridge_config_loaded_timestamp_seconds"), metrics.names().toString());
    assertEquals(1, metrics.value("drawbridge_config_info", Map.of("sha256", sha256)));
    for (String result : new String[] {"applied", "unchanged", "invalid"}) {
      assertEquals(reloads.getInt(result), metrics.value("drawbridge_config_reloads_total", Map.of("result", result)), result);
    }
  }

  private HttpResponse<String> reload(String login, Map<String, String> headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(tunnel.uri("/_drawbridge/admin/api/reload"))
        .timeout(AdminHttp.TIMEOUT)
        .POST(HttpRequest.BodyPublishers.noBody());
    if (login != null) {
      request.header("Authorization", login);
    }
    headers.forEach(request::header);
    return AdminHttp.CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
