package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Browser;
import dev.drawbridge.it.support.Containers;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.Tokens;
import dev.drawbridge.it.support.WebAppBackend;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A single-page web application used in a real browser (headless Chromium) through the tunnel with
 * the proxy's and the agent's defaults: the page and its style sheet, gzip-compressed script and
 * twenty images load (the browser opens several connections at once), its session cookie comes
 * back on API calls, a JSON post is echoed, a Server-Sent Events stream arrives, and a WebSocket
 * with the browser's permessage-deflate echoes a small and a 200 KiB message (on Jetty, whose
 * servlet upgrade cannot switch a browser's handshake, the proxy refuses it with 501).
 */
@Timeout(300)
class WebAppInBrowserIT {

  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void everyPartOfThePageWorksThroughTheTunnel() throws Exception {
    assumeTrue(Browser.available(), Browser.MISSING);
    String token = Tokens.random();
    try (WebAppBackend app = WebAppBackend.start();
        ProxyServer proxy = ProxyServer.start(ProxyConfig.singleBackend("default", Tokens.sha256Hex(token)));
        AgentProcess agent = AgentProcess.start(AgentProcess.flags(proxy.baseUrl(), app.url(), "default", token))) {
      agent.awaitLine(AgentProcess.CONNECTED, WAIT);
      String results = WebAppBackend.resultsInBrowser(proxy.baseUrl() + "/app/", WAIT);
      if (Containers.isJetty()) {
        // Jetty 12.1's servlet upgrade cannot switch a handshake that declares no length, as
        // browsers send it, so the proxy refuses it with 501 (docs/websockets.md, Limits).
        assertEquals(WebAppBackend.ALL_WORKED.replace("ws:ok(permessage-deflate)", ""),
            results.replaceAll("ws:failed\\(.*\\)$", ""), "everything but the WebSocket works on Jetty");
      } else {
        assertEquals(WebAppBackend.ALL_WORKED, results);
      }
    }
  }
}
