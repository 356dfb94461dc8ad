package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.exchange.Tunnel;
import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * {@code POST /_drawbridge/agent/v1/responses?backend=ID}: complete small responses of several
 * exchanges in one call, each checked as if it came in its own response call. See {@link
 * BatchRelay}.
 */
public class ResponseBatchServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  @Override
  protected void doPost(HttpServletRequest agentRequest, HttpServletResponse agentResponse)
      throws IOException {
    Tunnel tunnel = Responses.tunnel(getServletContext());
    AgentCaller caller =
        AgentCaller.authenticate(
            agentRequest, agentResponse, tunnel, agentRequest.getParameter(Protocol.BACKEND_PARAM));
    if (caller == null) {
      return;
    }
    BatchRelay.start(tunnel, caller, agentRequest.startAsync());
  }
}
