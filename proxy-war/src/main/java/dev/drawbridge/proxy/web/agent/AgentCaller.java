package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.auth.AgentTokens;
import dev.drawbridge.proxy.exchange.AgentSession;
import dev.drawbridge.proxy.exchange.Backend;
import dev.drawbridge.proxy.exchange.Tunnel;
import dev.drawbridge.proxy.metrics.ProxyMetrics;
import dev.drawbridge.proxy.web.Responses;
import dev.drawbridge.proxy.web.admin.OperationsListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * An authenticated agent call and the session of the agent process that made it. {@link
 * #authenticate} checks, in this order, the protocol version, the token (401), the backend (404,
 * only once the token is known good, so names do not leak), the token's grant for that backend
 * (403), the agent id and instance (400) and that no newer process of the same agent id replaced
 * the caller (409), answering the first failure itself.
 */
public record AgentCaller(Backend backend, AgentSession session, String version, String remoteAddress) {

  private static final Logger LOG = Logger.getLogger(AgentCaller.class.getName());
  private static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");
  private static final Pattern VERSION = Pattern.compile("[!-~]{1,64}");
  private static final Pattern INSTANCE = Pattern.compile("[A-Za-z0-9-]{1,64}");

  /**
   * The caller, or null after an error answer was sent.
   *
   * @param backendId the backend the call is about
   */
  static AgentCaller authenticate(
      HttpServletRequest request, HttpServletResponse response, Tunnel tunnel, String backendId)
      throws IOException {
    byte[] presented = knownToken(request, response, tunnel);
    return presented == null ? null : authorize(request, response, tunnel, presented, backendId);
  }

  /**
   * The first half of {@link #authenticate}, for calls that must learn their backend from what they
   * name (an exchange) only once the token is known good: checks the protocol version (400) and
   * that the token is one this proxy knows (401). Returns the token's digest for {@link
   * #authorize}, or null after an error answer was sent.
   */
  static byte[] knownToken(HttpServletRequest request, HttpServletResponse response, Tunnel tunnel)
      throws IOException {
    String protocol = request.getHeader(Protocol.PROTOCOL_HEADER);
    if (!Integer.toString(Protocol.VERSION).equals(protocol)) {
      Responses.agentText(
          response,
          400,
          "This proxy speaks agent protocol "
              + Protocol.VERSION
              + " but the agent sent "
              + (protocol == null ? "no protocol version" : "protocol " + sanitize(protocol))
              + "; run an agent of a matching version.");
      return null;
    }
    String token = AgentTokens.bearer(request.getHeader("Authorization"));
    byte[] presented = token == null ? null : AgentTokens.sha256(token);
    boolean known = false;
    if (presented != null) {
      // Backends removed by a reload still serve their agents' answers until they are retired.
      for (Backend candidate : tunnel.backendsForAgents()) {
        known |= AgentTokens.matchesDigest(presented, candidate.settings().agentTokenSha256());
      }
    }
    if (!known) {
      LOG.warning(() -> "Refused an agent call from " + request.getRemoteAddr() + ": missing or unknown agent token. If this is your agent, check its --token.");
      countAuthFailure(request, ProxyMetrics.UNKNOWN_TOKEN);
      response.setHeader("WWW-Authenticate", "Bearer realm=\"drawbridge\"");
      Responses.agentText(response, 401, "The agent token is missing or not valid.");
      return null;
    }
    return presented;
  }

  /**
   * The second half of {@link #authenticate}: the caller holding the known token with digest {@code
   * presented}, if it may serve {@code backendId}; else null after answering 404 (no such backend),
   * 403 (the token does not grant it) or 400 (a malformed agent id).
   */
  static AgentCaller authorize(
      HttpServletRequest request, HttpServletResponse response, Tunnel tunnel, byte[] presented, String backendId)
      throws IOException {
    Backend backend = backendId == null ? null : tunnel.backend(backendId);
    if (backend == null) {
      Responses.agentText(response, 404, "This proxy has no backend named '" + sanitize(String.valueOf(backendId)) + "'.");
      return null;
    }
    if (!AgentTokens.matchesDigest(presented, backend.settings().agentTokenSha256())) {
      countAuthFailure(request, ProxyMetrics.NOT_ALLOWED);
      Responses.agentText(response, 403, "This agent token is not allowed to serve backend '" + backend.id() + "'.");
      return null;
    }
    String agentId = request.getHeader(Protocol.AGENT_ID_HEADER);
    if (agentId == null || !AGENT_ID.matcher(agentId).matches()) {
      Responses.agentText(response, 400, "The " + Protocol.AGENT_ID_HEADER + " header must be 1 to 128 letters, digits or ._:@- characters.");
      return null;
    }
    String instance = request.getHeader(Protocol.AGENT_INSTANCE_HEADER);
    if (instance == null) {
      instance = "";
    } else if (!INSTANCE.matcher(instance).matches()) {
      Responses.agentText(response, 400, "The " + Protocol.AGENT_INSTANCE_HEADER + " header must be 1 to 64 letters, digits or dashes.");
      return null;
    }
    String version = request.getHeader(Protocol.AGENT_VERSION_HEADER);
    if (version == null || !VERSION.matcher(version).matches()) {
      version = "unknown";
    }
    AgentSession session = backend.session(agentId, instance, version, request.getRemoteAddr(), presented);
    if (session == null) {
      LOG.warning(() -> "Refused a call of agent " + agentId + " from " + request.getRemoteAddr()
          + ": a newer process took over its agent id. If two agents run with the same --agent-id, give each its own.");
      Responses.agentText(response, 409, "A newer agent process took over the agent id '" + agentId
          + "'; if two agents run with the same --agent-id, give each its own.");
      return null;
    }
    return new AgentCaller(backend, session, version, request.getRemoteAddr());
  }

  /** The caller's agent id. */
  String agentId() {
    return session.agentId();
  }

  private static void countAuthFailure(HttpServletRequest request, String reason) {
    ProxyMetrics metrics = OperationsListener.metrics(request.getServletContext());
    if (metrics != null) {
      metrics.agentAuthFailed(reason);
    }
  }

  /** A peer-supplied value made safe to echo in one line: printable ASCII, at most 64 chars. */
  public static String sanitize(String value) {
    return sanitize(value, 64);
  }

  /** A peer-supplied value made safe to echo in one line: printable ASCII, at most {@code max} chars. */
  public static String sanitize(String value, int max) {
    StringBuilder safe = new StringBuilder();
    for (int i = 0; i < value.length() && safe.length() < max; i++) {
      char c = value.charAt(i);
      safe.append(c >= 0x20 && c < 0x7F ? c : '?');
    }
    return safe.toString();
  }
}
