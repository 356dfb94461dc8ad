package dev.drawbridge.it.admin;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.Containers;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.Tokens;
import dev.drawbridge.it.support.TunnelFixture;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The operator views are closed without a login, and the page sends its security headers. */
@Timeout(300)
class AdminSecurityIT {

  private static TunnelFixture tunnel;

  @BeforeAll
  static void start() {
    tunnel = TunnelFixture.startWithoutAgent(config -> config);
  }

  @AfterAll
  static void stop() {
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/_drawbridge/admin",
        "/_drawbridge/admin/",
        "/_drawbridge/admin/admin.js",
        "/_drawbridge/admin/api/status",
        "/_drawbridge/metrics"
      })
  void withoutCredentialsTheAnswerIs401AndNoData(String path) throws Exception {
    HttpResponse<String> anonymous = AdminHttp.get(tunnel.uri(path), null);
    assertEquals(401, anonymous.statusCode());
    assertTrue(
        anonymous.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic realm=\"Drawbridge\""),
        () -> anonymous.headers().map().toString());
    assertFalse(anonymous.body().contains("queueDepth"), anonymous.body());
    assertFalse(anonymous.body().contains("drawbridge_"), anonymous.body());

    HttpResponse<String> wrongPassword = AdminHttp.get(tunnel.uri(path), AdminHttp.basic("admin", "guess"));
    assertEquals(401, wrongPassword.statusCode());
    // One wrong guess does not lock the operator out (and resets Tomcat's lock-out count).
    assertNotEquals(401, AdminHttp.get(tunnel.uri(path), AdminHttp.adminLogin()).statusCode());
  }

  @Test
  void wrongPasswordsInARowLockTheUserOutWhereTheContainerRealmDoes() throws Exception {
    int lockAfter = Containers.adminLockOutAfterFailures();
    try (ProxyServer proxy = ProxyServer.start(ProxyConfig.singleBackend("default", Tokens.sha256Hex(Tokens.random())))) {
      URI status = proxy.uri(AdminStatus.PATH);
      for (int i = 0; i < Math.max(lockAfter, 5); i++) {
        assertEquals(401, AdminHttp.get(status, AdminHttp.basic("admin", "guess-" + i)).statusCode());
      }
      int withRightPassword = AdminHttp.get(status, AdminHttp.adminLogin()).statusCode();
      assertEquals(lockAfter > 0 ? 401 : 200, withRightPassword, "the right password after the wrong ones");
    }
  }

  @Test
  void thePageSendsSecurityHeadersAndCarriesNoInlineCode() throws Exception {
    HttpResponse<String> page = AdminHttp.get(tunnel.uri("/_drawbridge/admin/"), AdminHttp.adminLogin());
    assertEquals(200, page.statusCode());
    String csp = page.headers().firstValue("Content-Security-Policy").orElse("");
    assertAll(
        () -> assertTrue(csp.contains("default-src 'self'"), csp),
        () -> assertFalse(csp.contains("unsafe-inline"), csp),
        () -> assertTrue(csp.contains("frame-ancestors 'none'"), csp),
        () -> assertEquals("DENY", page.headers().firstValue("X-Frame-Options").orElse(null)),
        () -> assertEquals("no-store", page.headers().firstValue("Cache-Control").orElse(null)),
        () -> assertEquals("nosniff", page.headers().firstValue("X-Content-Type-Options").orElse(null)),
        () -> assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html")));
    String html = page.body();
    // Every script is a file of the page's own; no inline script, style or event handler.
    assertFalse(Pattern.compile("<script(?![^>]*\\bsrc=)", Pattern.CASE_INSENSITIVE).matcher(html).find(), "inline <script>");
    assertFalse(Pattern.compile("<style", Pattern.CASE_INSENSITIVE).matcher(html).find(), "inline <style>");
    assertFalse(Pattern.compile("\\sstyle=", Pattern.CASE_INSENSITIVE).matcher(html).find(), "style attribute");
    assertFalse(Pattern.compile("\\son[a-z]+=", Pattern.CASE_INSENSITIVE).matcher(html).find(), "event handler attribute");
    assertFalse(Pattern.compile("(src|href)=\"(https?:)?//", Pattern.CASE_INSENSITIVE).matcher(html).find(), "external asset");

    for (String asset : List.of("admin.js", "admin.css", "favicon.svg")) {
      HttpResponse<String> file = AdminHttp.get(tunnel.uri("/_drawbridge/admin/" + asset), AdminHttp.adminLogin());
      assertEquals(200, file.statusCode(), asset);
      assertEquals("nosniff", file.headers().firstValue("X-Content-Type-Options").orElse(null), asset);
      assertFalse(Pattern.compile("https?://(?!www\\.w3\\.org/)").matcher(file.body()).find(), asset + " loads nothing from elsewhere");
    }
  }

  @Test
  void theApiAlsoSendsTheHeadersAndUnknownFilesAre404() throws Exception {
    HttpResponse<String> api = AdminHttp.get(tunnel.uri("/_drawbridge/admin/api/status"), AdminHttp.adminLogin());
    assertEquals(200, api.statusCode());
    assertEquals("no-store", api.headers().firstValue("Cache-Control").orElse(null));
    assertEquals("nosniff", api.headers().firstValue("X-Content-Type-Options").orElse(null));
    assertEquals(404, AdminHttp.get(tunnel.uri("/_drawbridge/admin/index.html"), AdminHttp.adminLogin()).statusCode());
    assertEquals(404, AdminHttp.get(tunnel.uri("/_drawbridge/admin/web.xml"), AdminHttp.adminLogin()).statusCode());
  }

  @Test
  void healthNeedsNoLogin() throws Exception {
    assertEquals(200, AdminHttp.get(tunnel.uri("/_drawbridge/health"), null).statusCode());
    HttpResponse<String> ready = AdminHttp.get(tunnel.uri("/_drawbridge/health/ready"), null);
    assertEquals(503, ready.statusCode(), "no agent yet: " + ready.body());
  }
}
