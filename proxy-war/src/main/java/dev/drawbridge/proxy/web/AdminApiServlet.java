package dev.drawbridge.proxy.web;

import dev.drawbridge.protocol.Json;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.config.ConfigReloader;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * The admin API, protected by the container's security (role {@code drawbridge-admin}, see
 * web.xml): {@code GET /_drawbridge/admin/api/status} is the tunnel's state as JSON ({@link
 * StatusReport}) for the admin page and scripts; {@code POST /_drawbridge/admin/api/reload}
 * applies the configuration file now.
 */
public class AdminApiServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  /**
   * Header every state-changing admin call must carry. A page of another site cannot send it
   * without a CORS preflight, which the proxy never grants, so a browser holding an operator's
   * login cannot be made to reload the configuration by a link, a form or a script elsewhere.
   */
  static final String ACTION_HEADER = "Drawbridge-Admin-Action";

  /** The result of a reload call: what happened, and the configuration now running. */
  public record ReloadAnswer(String result, String message, StatusReport.ConfigStatus config) {}

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    if (!"/status".equals(request.getPathInfo())) {
      Responses.text(response, 404, "There is no admin API call at this path.");
      return;
    }
    ConfigReloader reloader = reloader();
    json(response, 200, StatusReport.of(Responses.tunnel(getServletContext()), reloader == null ? null : reloader.status()));
  }

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    if (!"/reload".equals(request.getPathInfo())) {
      Responses.text(response, 404, "There is no admin API call at this path.");
      return;
    }
    String refusal = crossSiteRefusal(request);
    if (refusal != null) {
      Responses.text(response, 403, refusal);
      return;
    }
    ConfigReloader reloader = reloader();
    if (reloader == null) {
      Responses.text(response, 503, "The proxy is starting or stopping; retry shortly.");
      return;
    }
    if (reloader.file() == null) {
      Responses.text(response, 409, reloader.reload("an operator asked").message());
      return;
    }
    ConfigReloader.Outcome outcome = reloader.reload("an operator asked (" + request.getRemoteUser() + ")");
    int status = outcome.result() == ConfigReloader.Result.INVALID ? 422 : 200;
    json(response, status, new ReloadAnswer(outcome.result().name(), outcome.message(),
        StatusReport.ConfigStatus.of(reloader.status())));
  }

  /** Why this call may come from another site's page, or null when it is the operator's own. */
  static String crossSiteRefusal(HttpServletRequest request) {
    String fetchSite = request.getHeader("Sec-Fetch-Site");
    if (fetchSite != null && !fetchSite.equals("same-origin") && !fetchSite.equals("none")) {
      return "Admin calls from another site's page are refused.";
    }
    String origin = request.getHeader("Origin");
    if (origin != null && !sameOrigin(origin, request)) {
      return "Admin calls from another site's page are refused.";
    }
    if (!"reload".equalsIgnoreCase(String.valueOf(request.getHeader(ACTION_HEADER)).trim())) {
      return "Send the header " + ACTION_HEADER + ": reload with this call (the admin page does), so that no other"
          + " site's page can make it.";
    }
    return null;
  }

  private static boolean sameOrigin(String origin, HttpServletRequest request) {
    try {
      URI uri = new URI(origin);
      int port = uri.getPort() != -1 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
      return request.getScheme().equalsIgnoreCase(uri.getScheme())
          && request.getServerName().toLowerCase(Locale.ROOT).equals(String.valueOf(uri.getHost()).toLowerCase(Locale.ROOT))
          && request.getServerPort() == port;
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private ConfigReloader reloader() {
    return getServletContext().getAttribute(Responses.RELOADER_ATTRIBUTE) instanceof ConfigReloader reloader
        ? reloader
        : null;
  }

  private static void json(HttpServletResponse response, int status, Object value) throws IOException {
    byte[] body = Json.toBytes(value);
    response.setStatus(status);
    response.setContentType(Protocol.JSON_TYPE);
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
