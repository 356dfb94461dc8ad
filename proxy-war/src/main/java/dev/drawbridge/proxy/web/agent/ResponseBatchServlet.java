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
 * exchanges in one call, each checked as if it came in its own response call; a streamed batch
 * ({@link Protocol#RESPONSE_STREAM_HEADER}) keeps the call open while more come. See {@link
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
    boolean streamed = Protocol.STREAM_OPEN.equals(agentRequest.getHeader(Protocol.RESPONSE_STREAM_HEADER));
    if (streamed) {
      // A body that came with a length was collected whole on the way: every response in it was
      // held back until the agent ended the stream.
      agentResponse.setHeader(Protocol.RESPONSE_STREAM_HEADER,
          agentRequest.getContentLengthLong() < 0 ? Protocol.STREAM_PASSED : Protocol.STREAM_HELD);
    }
    BatchRelay.start(tunnel, caller, agentRequest.startAsync(), streamed);
  }
}
