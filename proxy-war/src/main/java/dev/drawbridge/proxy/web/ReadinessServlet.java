package dev.drawbridge.proxy.web;

import dev.drawbridge.protocol.Json;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.exchange.Backend;
import dev.drawbridge.proxy.exchange.Tunnel;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /_drawbridge/health/ready}: 200 when every backend has at least one connected agent,
 * else 503, with each backend's agent count as JSON. Needs no login, like liveness: it reveals only
 * backend names and counts, and load balancers rarely carry credentials.
 */
public class ReadinessServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  /** The answer; {@code ready} is true when every backend is. */
  public record Readiness(boolean ready, List<BackendReadiness> backends) {}

  /** One backend: ready when at least one agent is connected. */
  public record BackendReadiness(String id, int agents, boolean ready) {}

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    Tunnel tunnel = Responses.tunnel(getServletContext());
    List<BackendReadiness> backends = new ArrayList<>();
    boolean ready = true;
    for (Backend backend : tunnel.backends()) {
      int agents = backend.agents().size();
      backends.add(new BackendReadiness(backend.id(), agents, agents > 0));
      ready &= agents > 0;
    }
    byte[] body = Json.toBytes(new Readiness(ready, backends));
    response.setStatus(ready ? 200 : 503);
    response.setContentType(Protocol.JSON_TYPE);
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
