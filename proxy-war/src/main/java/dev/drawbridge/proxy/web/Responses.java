package dev.drawbridge.proxy.web;

import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.exchange.Tunnel;
import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Small helpers shared by the servlets: the tunnel lookup and one-sentence error answers. */
public final class Responses {

  /** Servlet context attribute holding the {@link Tunnel}. */
  public static final String TUNNEL_ATTRIBUTE = Tunnel.class.getName();

  /** Servlet context attribute holding the {@link Handoff} threads. */
  static final String HANDOFF_ATTRIBUTE = Handoff.class.getName();

  /** Servlet context attribute holding the {@link dev.drawbridge.proxy.config.ConfigReloader}. */
  public static final String RELOADER_ATTRIBUTE = dev.drawbridge.proxy.config.ConfigReloader.class.getName();

  private Responses() {}

  public static Handoff handoff(ServletContext context) {
    Handoff handoff = (Handoff) context.getAttribute(HANDOFF_ATTRIBUTE);
    if (handoff == null) {
      throw new IllegalStateException("Drawbridge did not start; see the startup log");
    }
    return handoff;
  }

  public static Tunnel tunnel(ServletContext context) {
    Tunnel tunnel = (Tunnel) context.getAttribute(TUNNEL_ATTRIBUTE);
    if (tunnel == null) {
      throw new IllegalStateException("Drawbridge did not start; see the startup log");
    }
    return tunnel;
  }

  /**
   * Writes a short plain-text answer (one sentence and a newline). The body is small enough to sit
   * in the response buffer, so this never blocks on a slow peer.
   */
  public static void text(HttpServletResponse response, int status, String message) throws IOException {
    byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    response.setContentType("text/plain;charset=utf-8");
    response.setHeader("Cache-Control", "no-store");
    // The body is text/plain and must stay so: no browser may sniff a script or page out of it.
    response.setHeader("X-Content-Type-Options", "nosniff");
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }

  /** Starts a 200 JSON answer of {@code length} bytes to an agent call; the caller writes the body. */
  public static void agentJsonHead(HttpServletResponse response, int length) {
    response.setStatus(200);
    response.setContentType(Protocol.JSON_TYPE);
    response.setContentLength(length);
    response.setHeader("Cache-Control", "no-store");
    response.setHeader(Protocol.PROXY_VERSION_HEADER, Protocol.SOFTWARE_VERSION);
  }

  /** Like {@link #text} for agent calls, which also learn the proxy's versions. */
  public static void agentText(HttpServletResponse response, int status, String message) throws IOException {
    response.setHeader(Protocol.PROXY_VERSION_HEADER, Protocol.SOFTWARE_VERSION);
    if (status >= 400) {
      // A refused call's body may be unread; the container then drops the connection, so say so
      // up front and the agent's client does not reuse it for its next call.
      response.setHeader("Connection", "close");
    }
    response.setHeader(Protocol.PROTOCOL_HEADER, Integer.toString(Protocol.VERSION));
    text(response, status, message);
  }
}
