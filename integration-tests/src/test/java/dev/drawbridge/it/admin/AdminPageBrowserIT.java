package dev.drawbridge.it.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.drawbridge.it.support.Browser;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.TunnelFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The admin page in a real browser (Debian's headless chromium through chromedriver): log in,
 * watch queue depth rise while requests wait with no agent, and fall to 0 once an agent drains
 * them; then see the page say "disconnected" when the proxy stops. Screenshots land in {@link
 * #SCREENSHOTS} for people to look at.
 */
@Timeout(300)
class AdminPageBrowserIT {

  static final Path SCREENSHOTS = Path.of("target", "screenshots");
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int WAITING_REQUESTS = 3;

  private TunnelFixture tunnel;
  private WebDriver browser;

  @AfterEach
  void stop() {
    try {
      if (browser != null) {
        browser.quit();
      }
    } finally {
      if (tunnel != null) {
        tunnel.close();
      }
    }
  }

  @Test
  void queueDepthRisesWithoutAnAgentAndFallsWhenOneDrainsIt() throws Exception {
    assumeTrue(Browser.available(), Browser.MISSING);
    tunnel = TunnelFixture.startWithoutAgent(config -> config.backendSetting("queueTimeoutSeconds", 600));
    tunnel.backend().respondByDefault(Responders.fixed(200, "text/plain", "hello"));
    tunnel.backend().respondTo("/hang-up", Responders.disconnect());
    browser = Browser.chromium();
    // Every request of the page carries the admin's credentials, set through chromedriver's own
    // DevTools passthrough: Selenium's typed DevTools route works only with the few Chromium
    // versions it was built for, and Debian ships others.
    String basic = Base64.getEncoder().encodeToString(
        (ProxyServer.ADMIN_USER + ":" + ProxyServer.ADMIN_PASSWORD).getBytes(StandardCharsets.UTF_8));
    ((ChromeDriver) browser).executeCdpCommand("Network.enable", Map.of());
    ((ChromeDriver) browser).executeCdpCommand(
        "Network.setExtraHTTPHeaders", Map.of("headers", Map.of("Authorization", "Basic " + basic)));

    browser.get(tunnel.proxy().baseUrl() + "/_drawbridge/admin/");
    awaitText("#connection", "Live");
    awaitText(queueDepth(), "0");

    List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
    for (int i = 0; i < WAITING_REQUESTS; i++) {
      waiting.add(
          AdminHttp.CLIENT.sendAsync(
              HttpRequest.newBuilder(tunnel.uri("/waiting-" + i)).timeout(Duration.ofSeconds(90)).GET().build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    awaitText(queueDepth(), Integer.toString(WAITING_REQUESTS));
    awaitText("[data-backend='default'] [data-field='health']", "NO AGENT");
    screenshot("admin-queueing.png");

    tunnel.connectAgent(tunnel.backend().url(), List.of());
    awaitText(queueDepth(), "0");
    for (CompletableFuture<HttpResponse<String>> request : waiting) {
      assertEquals(200, request.get().statusCode(), "every waiting request was answered once the agent came");
    }
    awaitText("[data-backend='default'] [data-field='health']", "HEALTHY");
    awaitText("[data-backend='default'] [data-field='agentCount']", "(1)");
    awaitText("[data-backend='default'] [data-field='inFlight']", "0");

    // Some traffic for the plots, and a backend that hangs up so the failures table has a 502.
    for (int i = 0; i < 20; i++) {
      assertEquals(200, get("/ok-" + i));
    }
    assertEquals(502, get("/hang-up"));
    awaitText("#failures .status", "502");
    awaitText("[data-backend='default'] [data-field='failures']", "1");
    screenshot("admin-drained.png");

    // The configuration card: a refused file shows with its reason, Reload now answers on the page.
    awaitText("#config-version", "1");
    java.nio.file.Files.writeString(tunnel.proxy().configFile(), "{\"backends\": [], \"pollWaitSeconds\": 5}");
    browser.findElement(By.id("reload")).click();
    new WebDriverWait(browser, WAIT).until(driver -> driver.findElement(By.id("config-error")).isDisplayed());
    assertTrue(browser.findElement(By.id("config-error")).getText().contains("key 'backends': list at least one backend"),
        browser.findElement(By.id("config-error")).getText());
    assertTrue(browser.findElement(By.id("config-result")).getText().contains("list at least one backend"));
    screenshot("admin-config-refused.png");

    // Phone width; tall, so the screenshot shows the whole page rather than the first screen.
    browser.manage().window().setSize(new Dimension(390, 1900));
    awaitText(queueDepth(), "0");
    screenshot("admin-phone.png");
    browser.manage().window().setSize(new Dimension(1280, 900));

    tunnel.proxy().stop();
    awaitText("#connection", "Disconnected");
    assertEquals("—", browser.findElement(By.cssSelector(queueDepth())).getText(), "no stale numbers once disconnected");
    assertTrue(browser.findElement(By.id("banner")).isDisplayed());
    screenshot("admin-disconnected.png");
  }

  private int get(String path) throws Exception {
    return AdminHttp.CLIENT
        .send(HttpRequest.newBuilder(tunnel.uri(path)).timeout(WAIT).GET().build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static String queueDepth() {
    return "[data-backend='" + TunnelFixture.BACKEND_ID + "'] [data-field='queueDepth']";
  }

  private void awaitText(String css, String expected) {
    new WebDriverWait(browser, WAIT)
        .withMessage(() -> css + " never showed '" + expected + "'")
        .until(driver -> driver.findElements(By.cssSelector(css)).stream().anyMatch(e -> expected.equals(e.getText().trim())));
  }

  private void screenshot(String name) {
    try {
      Files.createDirectories(SCREENSHOTS);
      byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
      Files.write(SCREENSHOTS.resolve(name), png);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
