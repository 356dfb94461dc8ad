package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.exchange.ExchangeIds;
import dev.drawbridge.proxy.exchange.ExchangeState;
import dev.drawbridge.proxy.exchange.Tunnel;
import dev.drawbridge.proxy.web.Responses;
import dev.drawbridge.proxy.web.UndertowBodyLimit;
import dev.drawbridge.proxy.web.client.ServletClientLeg;
import dev.drawbridge.proxy.web.client.UpgradeRelay;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * The per-exchange agent calls: {@code GET .../exchanges/{id}/request-body} streams the client's
 * body to the agent, {@code POST .../exchanges/{id}/response} streams the agent's response to the
 * client. Both check that the caller is the agent the exchange was delivered to.
 */
public class ExchangeServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  @Override
  protected void doGet(HttpServletRequest agentRequest, HttpServletResponse agentResponse)
      throws IOException {
    Exchange exchange = lookUp(agentRequest, agentResponse, Protocol.REQUEST_BODY_SUFFIX);
    if (exchange == null) {
      return;
    }
    if (exchange.isUpgrade()) {
      UpgradeRelay relay = UpgradeRelay.of(exchange);
      if (!relay.claimBodyCall()) {
        Responses.agentText(agentResponse, 409, "The client's side of this upgraded connection was already fetched.");
        return;
      }
      relay.agentBodyCall(agentRequest.startAsync());
      return;
    }
    if (exchange.head().body() != BodyMode.STREAM) {
      Responses.agentText(agentResponse, 409, "This exchange has no streamed request body.");
      return;
    }
    ServletClientLeg client = (ServletClientLeg) exchange.client();
    if (!client.claimBody()) {
      Responses.agentText(agentResponse, 409, "The request body of this exchange was already fetched.");
      return;
    }
    RequestBodyRelay.start(exchange, client, agentRequest.startAsync(), maxBody());
  }

  @Override
  protected void doPost(HttpServletRequest agentRequest, HttpServletResponse agentResponse)
      throws IOException {
    Exchange exchange = lookUp(agentRequest, agentResponse, Protocol.RESPONSE_SUFFIX);
    if (exchange == null) {
      return;
    }
    if (exchange.state() != ExchangeState.DELIVERED) {
      Responses.agentText(agentResponse, 409, "This exchange was already answered.");
      return;
    }
    // The proxy's own limits apply to what it relays; WildFly's max-post-size must not cut it.
    UndertowBodyLimit.lift(agentRequest);
    if (exchange.isUpgrade()) {
      UpgradeRelay relay = UpgradeRelay.of(exchange);
      if (!relay.claimAnswerCall()) {
        Responses.agentText(agentResponse, 409, "This exchange was already answered.");
        return;
      }
      relay.agentAnswerCall(agentRequest.startAsync());
      return;
    }
    ResponseRelay.start(exchange, (ServletClientLeg) exchange.client(), agentRequest.startAsync(), via());
  }

  private long maxBody() {
    return Responses.tunnel(getServletContext()).settings().maxRequestBodyBytes();
  }

  private String via() {
    return Responses.tunnel(getServletContext()).settings().via();
  }

  /**
   * The exchange named by the path if the caller may act on it, or null after answering. The token
   * is checked first (401), so a caller without a valid one learns nothing of which ids exist; then
   * 404 for an unknown path or id, 410 for an exchange that ended without completing, 403 for an
   * exchange of another backend or agent.
   */
  private Exchange lookUp(
      HttpServletRequest agentRequest, HttpServletResponse agentResponse, String expectedSuffix)
      throws IOException {
    Tunnel tunnel = Responses.tunnel(getServletContext());
    byte[] token = AgentCaller.knownToken(agentRequest, agentResponse, tunnel);
    if (token == null) {
      return null;
    }
    String path = agentRequest.getPathInfo();
    String id = null;
    if (path != null && path.endsWith(expectedSuffix)) {
      id = path.substring(1, path.length() - expectedSuffix.length());
    }
    if (!ExchangeIds.isWellFormed(id)) {
      Responses.agentText(agentResponse, 404, "There is no agent call at this path.");
      return null;
    }
    ExchangeLookup lookup = ExchangeLookup.find(tunnel, id);
    if (!lookup.found()) {
      Responses.agentText(agentResponse, lookup.status(), lookup.message());
      return null;
    }
    Exchange exchange = lookup.exchange();
    AgentCaller caller = AgentCaller.authorize(agentRequest, agentResponse, tunnel, token, exchange.backend().id());
    if (caller == null) {
      return null;
    }
    lookup = lookup.deliveredTo(caller.backend(), caller.session());
    if (!lookup.found()) {
      Responses.agentText(agentResponse, lookup.status(), lookup.message());
      return null;
    }
    return exchange;
  }
}
