package dev.drawbridge.proxy.web.admin;

import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** {@code GET /_drawbridge/health}: 200 once the proxy has started, for load balancers and scripts. */
public class HealthServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    Responses.tunnel(getServletContext());
    Responses.text(response, 200, "ok");
  }
}
