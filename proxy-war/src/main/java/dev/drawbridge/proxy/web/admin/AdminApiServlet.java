package dev.drawbridge.proxy.web.admin;

import dev.drawbridge.protocol.Json;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.config.ConfigReloader;
import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * The admin API, protected by the container's security (role {@code drawbridge-admin}, see
 * web.xml): {@code GET /_drawbridge/admin/api/status} is the tunnel's state as JSON ({@link
 * StatusReport}) for the admin page and scripts; {@code POST /_drawbridge/admin/api/reload}
 * applies the configuration file now.
 */
public class AdminApiServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

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
    String refusal = AdminCalls.crossSiteRefusal(request, "reload");
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
