package dev.drawbridge.proxy.web;

import dev.drawbridge.protocol.Json;
import dev.drawbridge.protocol.Protocol;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * {@code GET /_drawbridge/admin/api/status}: the tunnel's state as JSON ({@link StatusReport}), for
 * the admin page and for scripts. Protected by the container's security (role {@code
 * drawbridge-admin}, see web.xml).
 */
public class AdminApiServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    if (!"/status".equals(request.getPathInfo())) {
      Responses.text(response, 404, "There is no admin API call at this path.");
      return;
    }
    byte[] body = Json.toBytes(StatusReport.of(Responses.tunnel(getServletContext())));
    response.setContentType(Protocol.JSON_TYPE);
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
