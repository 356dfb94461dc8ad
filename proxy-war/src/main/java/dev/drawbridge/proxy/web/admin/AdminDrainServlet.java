package dev.drawbridge.proxy.web.admin;

import dev.drawbridge.protocol.Json;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.exchange.Tunnel;
import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * {@code POST /_drawbridge/admin/api/drain} with the header {@code Drawbridge-Admin-Action: drain}:
 * takes this node out of its load balancer before it is stopped ({@link Tunnel#leave()}).
 * Readiness answers 503 at once, the node keeps taking work for {@code drainDelaySeconds}, then
 * tells its agents and refuses new requests while those in flight finish. Protected like the rest
 * of the admin API (role {@code drawbridge-admin}, see web.xml).
 */
public class AdminDrainServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  private static final Logger LOG = Logger.getLogger(AdminDrainServlet.class.getName());

  /**
   * The answer: {@code started} is false when a drain (or a stop) had begun already.
   *
   * @param drainDelaySeconds how long the node still takes work after the call
   */
  public record DrainAnswer(boolean started, String phase, long drainDelaySeconds, int liveExchanges) {}

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
    String refusal = AdminCalls.crossSiteRefusal(request, "drain");
    if (refusal != null) {
      Responses.text(response, 403, refusal);
      return;
    }
    Tunnel tunnel = Responses.tunnel(getServletContext());
    boolean started = tunnel.leave();
    if (started) {
      LOG.info(() -> "Drain asked by " + request.getRemoteUser() + " from " + request.getRemoteAddr());
    }
    byte[] body = Json.toBytes(new DrainAnswer(started, tunnel.phase().name().toLowerCase(Locale.ROOT),
        tunnel.settings().drainDelay().toSeconds(), tunnel.liveExchanges()));
    response.setStatus(202);
    response.setContentType(Protocol.JSON_TYPE);
    response.setHeader("Cache-Control", "no-store");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }
}
