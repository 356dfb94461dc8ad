package dev.drawbridge.proxy.web.admin;

import dev.drawbridge.protocol.Json;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.exchange.AgentSession;
import dev.drawbridge.proxy.exchange.Backend;
import dev.drawbridge.proxy.exchange.Tunnel;
import dev.drawbridge.proxy.web.Responses;
import dev.drawbridge.proxy.web.agent.AgentCaller;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * {@code GET /_drawbridge/health/ready[?backend=ID]}, the load balancer's check: 200 when this
 * node can serve, else 503, with the reasons as JSON either way. A node can serve when it is not
 * leaving (no drain call, not stopping) and every backend (or the one named) has at least one
 * connected agent that is not shutting down. Needs no login, like liveness: it reveals only
 * backend names and counts, and load balancers rarely carry credentials.
 */
public class ReadinessServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;
  private static final Logger LOG = Logger.getLogger(ReadinessServlet.class.getName());

  /** The last answer to the whole-node check, so the log gets one line per change, not per check. */
  private final transient AtomicReference<String> lastVerdict = new AtomicReference<>("");

  /**
   * The answer.
   *
   * @param ready true when this node can serve: not leaving, and every backend listed is ready
   * @param phase {@code serving}, {@code leaving} (drain call made, still taking work) or {@code
   *     draining} (agents told, new requests refused)
   * @param liveExchanges requests queued or in flight on this node; a drained node may be stopped
   *     once it is 0
   */
  public record Readiness(boolean ready, String phase, int liveExchanges, List<BackendReadiness> backends) {}

  /** One backend: ready when at least one agent is connected and not shutting down. */
  public record BackendReadiness(String id, int agents, boolean ready) {}

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
    Tunnel tunnel = Responses.tunnel(getServletContext());
    String only = request.getParameter("backend");
    if (only != null && tunnel.backend(only) == null) {
      Responses.text(response, 404, "This proxy has no backend named '" + AgentCaller.sanitize(only) + "'.");
      return;
    }
    List<BackendReadiness> backends = new ArrayList<>();
    boolean ready = tunnel.phase() == Tunnel.Phase.SERVING;
    for (Backend backend : tunnel.backends()) {
      if (only != null && !only.equals(backend.id())) {
        continue;
      }
      int agents = 0;
      for (AgentSession agent : backend.agents()) {
        if (!agent.isLeaving()) {
          agents++;
        }
      }
      backends.add(new BackendReadiness(backend.id(), agents, agents > 0));
      ready &= agents > 0;
    }
    Readiness readiness =
        new Readiness(ready, tunnel.phase().name().toLowerCase(Locale.ROOT), tunnel.liveExchanges(), backends);
    if (only == null) {
      logChange(readiness);
    }
    byte[] body = Json.toBytes(readiness);
    response.setStatus(ready ? 200 : 503);
    response.setContentType(Protocol.JSON_TYPE);
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }

  /** Logs the node's readiness when it changed since the last whole-node check, with why. */
  private void logChange(Readiness readiness) {
    StringBuilder why = new StringBuilder(readiness.ready() ? "ready" : "not ready").append(" (").append(readiness.phase());
    for (BackendReadiness backend : readiness.backends()) {
      why.append(", backend ").append(backend.id()).append(": ").append(backend.agents()).append(" agent(s)");
    }
    String verdict = why.append(')').toString();
    if (!verdict.equals(lastVerdict.getAndSet(verdict))) {
      LOG.info(() -> "Readiness for load balancers: " + verdict);
    }
  }
}
