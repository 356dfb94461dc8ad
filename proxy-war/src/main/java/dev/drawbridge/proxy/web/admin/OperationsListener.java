package dev.drawbridge.proxy.web.admin;

import dev.drawbridge.proxy.metrics.ProxyMetrics;
import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;

/**
 * Starts the metrics once the tunnel runs and closes them on undeploy. Declared after {@link
 * dev.drawbridge.proxy.web.DrawbridgeListener} in web.xml: the container starts listeners in that
 * order and stops them in the reverse one, so the tunnel exists first and is still there when the
 * metrics let go of it.
 */
public class OperationsListener implements ServletContextListener {

  /** Servlet context attribute holding the {@link ProxyMetrics}. */
  static final String METRICS_ATTRIBUTE = ProxyMetrics.class.getName();

  @Override
  public void contextInitialized(ServletContextEvent event) {
    ServletContext context = event.getServletContext();
    Object reloader = context.getAttribute(Responses.RELOADER_ATTRIBUTE);
    context.setAttribute(METRICS_ATTRIBUTE, new ProxyMetrics(Responses.tunnel(context),
        reloader instanceof dev.drawbridge.proxy.config.ConfigReloader config ? config : null));
  }

  @Override
  public void contextDestroyed(ServletContextEvent event) {
    ServletContext context = event.getServletContext();
    if (context.getAttribute(METRICS_ATTRIBUTE) instanceof ProxyMetrics metrics) {
      context.removeAttribute(METRICS_ATTRIBUTE);
      metrics.close();
    }
  }

  /** The running metrics, or null before start and after undeploy. */
  public static ProxyMetrics metrics(ServletContext context) {
    return context.getAttribute(METRICS_ATTRIBUTE) instanceof ProxyMetrics metrics ? metrics : null;
  }
}
