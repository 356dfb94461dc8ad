package dev.drawbridge.proxy.web.admin;

import dev.drawbridge.proxy.metrics.ProxyMetrics;
import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * {@code GET /_drawbridge/metrics}: Prometheus exposition of the proxy's and the JVM's metrics.
 * Protected by the container's security (roles {@code drawbridge-admin} or {@code
 * drawbridge-metrics}, see web.xml); Prometheus scrapes it with {@code basic_auth}.
 */
public class MetricsServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    ProxyMetrics metrics = OperationsListener.metrics(getServletContext());
    if (metrics == null) {
      Responses.text(response, 503, "Metrics are not running; the proxy is starting or stopping.");
      return;
    }
    // Rendered to memory first (tens of kilobytes) so a slow scraper never holds the registry.
    ByteArrayOutputStream body = new ByteArrayOutputStream(16 * 1024);
    String contentType = metrics.scrape(request.getHeader("Accept"), body);
    response.setContentType(contentType);
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(body.size());
    body.writeTo(response.getOutputStream());
  }
}
