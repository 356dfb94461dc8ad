package dev.drawbridge.proxy.web;

import dev.drawbridge.protocol.Json;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.exchange.AgentSession;
import dev.drawbridge.proxy.exchange.Backend;
import dev.drawbridge.proxy.exchange.Tunnel;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /_drawbridge/admin/api/status}: the tunnel's state as JSON, for the admin page and for
 * scripts. Protected by the container's security (role {@code drawbridge-admin}, see web.xml).
 */
public class AdminApiServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  /** The whole answer. */
  public record Status(String version, int liveExchanges, List<BackendStatus> backends) {}

  /** One backend. */
  public record BackendStatus(
      String id, int queueDepth, int waitingPolls, int inFlight, List<AgentStatus> agents) {}

  /** One connected agent. */
  public record AgentStatus(
      String id, String version, String remoteAddress, String connectedSince, String lastSeen, int inFlight) {}

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    if (!"/status".equals(request.getPathInfo())) {
      Responses.text(response, 404, "There is no admin API call at this path.");
      return;
    }
    Tunnel tunnel = Responses.tunnel(getServletContext());
    List<BackendStatus> backends = new ArrayList<>();
    for (Backend backend : tunnel.backends()) {
      List<AgentStatus> agents = new ArrayList<>();
      int inFlight = 0;
      for (AgentSession agent : backend.agents()) {
        inFlight += agent.inFlightCount();
        agents.add(
            new AgentStatus(
                agent.agentId(),
                agent.version(),
                agent.remoteAddress(),
                agent.connectedSince().toString(),
                agent.lastSeen().toString(),
                agent.inFlightCount()));
      }
      backends.add(new BackendStatus(backend.id(), backend.queueDepth(), backend.parkedPolls(), inFlight, agents));
    }
    byte[] body = Json.toBytes(new Status(Protocol.SOFTWARE_VERSION, tunnel.liveExchanges(), backends));
    response.setContentType(Protocol.JSON_TYPE);
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
