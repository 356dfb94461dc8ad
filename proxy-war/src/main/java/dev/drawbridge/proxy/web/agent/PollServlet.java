package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.protocol.PollResult;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.WireJson;
import dev.drawbridge.proxy.exchange.AgentSession;
import dev.drawbridge.proxy.exchange.Tunnel;
import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;

/**
 * {@code POST /_drawbridge/agent/v1/poll?backend=ID&max=N}: hands queued requests to an agent, or
 * holds the poll (no thread) until work arrives or the poll wait ends.
 */
public class PollServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  /** Extra time the container gives a poll past the proxy's own deadline, as a safety net. */
  private static final long CONTAINER_TIMEOUT_MARGIN_MILLIS = 30_000;

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
    int max;
    try {
      max = Integer.parseInt(String.valueOf(agentRequest.getParameter(Protocol.MAX_PARAM)));
    } catch (NumberFormatException e) {
      max = -1;
    }
    if (max < 0) {
      Responses.agentText(agentResponse, 400, "The poll's max parameter must be a whole number of 0 or more.");
      return;
    }
    max = Math.min(max, tunnel.settings().maxPollBatch());
    // Every answer, plain or streamed, tells the agent what this proxy reads in its streams.
    agentResponse.setHeader(Protocol.PROXY_FEATURES_HEADER, Protocol.FEATURE_KEEPALIVE);
    AgentSession session = caller.session();
    if ("true".equalsIgnoreCase(agentRequest.getHeader(Protocol.AGENT_ALIVE_HEADER))) {
      // Authenticating the call already counted it.
      agentResponse.setHeader(Protocol.PROXY_VERSION_HEADER, Protocol.SOFTWARE_VERSION);
      agentResponse.setStatus(204);
      return;
    }
    if ("true".equalsIgnoreCase(agentRequest.getHeader(Protocol.AGENT_LEAVING_HEADER))) {
      caller.backend().agentLeaving(session);
      byte[] empty = WireJson.write(new PollResult(List.of(), List.of(), false));
      Responses.agentJsonHead(agentResponse, empty.length);
      agentResponse.getOutputStream().write(empty);
      return;
    }
    session.reportNodes(agentRequest.getHeader(Protocol.AGENT_NODES_HEADER));
    String features = agentRequest.getHeader(Protocol.AGENT_FEATURES_HEADER);
    boolean upgrades = Protocol.declares(features, Protocol.FEATURE_UPGRADE);
    session.relaysUpgrades(upgrades);
    caller.backend().reportHealth(
        session, !Protocol.BACKEND_DOWN.equalsIgnoreCase(agentRequest.getHeader(Protocol.BACKEND_HEALTH_HEADER)));
    boolean streams = Protocol.declares(features, Protocol.FEATURE_POLL_STREAM);
    if (streams) {
      agentResponse.setHeader(Protocol.CALL_WITHIN_HEADER, String.valueOf(tunnel.settings().agentGrace().toMillis()));
    }
    long pollWaitNanos = tunnel.settings().pollWait().toNanos();
    AsyncContext async = agentRequest.startAsync();
    async.setTimeout(tunnel.settings().pollWait().toMillis() + CONTAINER_TIMEOUT_MARGIN_MILLIS);
    AgentPoll poll =
        new AgentPoll(async, Responses.handoff(getServletContext()), caller.backend(), session, max,
            tunnel.nanoTime() + pollWaitNanos, upgrades, streams, tunnel::nanoTime);
    try {
      poll.start();
    } finally {
      poll.leftService();
    }
  }
}
