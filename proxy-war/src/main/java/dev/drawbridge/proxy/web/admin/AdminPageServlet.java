package dev.drawbridge.proxy.web.admin;

import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * {@code GET /_drawbridge/admin/}: the admin page and its script and style. They live under
 * {@code WEB-INF/admin/}, out of the container's reach, because every other path of the WAR is a
 * client request for a backend; this servlet serves exactly the files listed here and nothing else.
 */
public class AdminPageServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  private static final String RESOURCES = "/WEB-INF/admin/";

  /** Path below the servlet to the file and its content type. */
  private static final Map<String, String[]> FILES =
      Map.of(
          "/", new String[] {"index.html", "text/html;charset=utf-8"},
          "/admin.js", new String[] {"admin.js", "text/javascript;charset=utf-8"},
          "/admin.css", new String[] {"admin.css", "text/css;charset=utf-8"},
          "/favicon.svg", new String[] {"favicon.svg", "image/svg+xml"});

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    String path = request.getPathInfo();
    if (path == null) {
      // The page's links are relative: they need the trailing slash to resolve under admin/.
      response.sendRedirect(request.getRequestURI() + "/");
      return;
    }
    String[] file = FILES.get(path);
    InputStream in = file == null ? null : getServletContext().getResourceAsStream(RESOURCES + file[0]);
    if (in == null) {
      Responses.text(response, 404, "The admin page has no file at this path.");
      return;
    }
    try (in) {
      byte[] body = in.readAllBytes();
      response.setContentType(file[1]);
      response.setContentLength(body.length);
      response.getOutputStream().write(body);
    }
  }
}
