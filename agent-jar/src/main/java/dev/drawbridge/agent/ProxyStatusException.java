package dev.drawbridge.agent;

import java.io.IOException;

/** The proxy answered an agent call with an unexpected status; the message is the proxy's one-line body. */
final class ProxyStatusException extends IOException {

  private static final long serialVersionUID = 1L;

  private final int status;
  private final boolean fromDrawbridge;
  private final String proxyProtocol;

  /**
   * @param fromDrawbridge whether the answer came from a Drawbridge proxy (it carries the proxy's
   *     version header); a container's own 404 during a redeploy is not a verdict on the agent
   * @param proxyProtocol the agent protocol version the proxy announced, or null
   */
  ProxyStatusException(int status, String message, boolean fromDrawbridge, String proxyProtocol) {
    super(message);
    this.status = status;
    this.fromDrawbridge = fromDrawbridge;
    this.proxyProtocol = proxyProtocol;
  }

  /** The agent protocol version the proxy speaks, when it differs from this agent's; else null. */
  String mismatchedProtocol() {
    boolean mismatch = fromDrawbridge && status == 400 && proxyProtocol != null
        && !proxyProtocol.equals(Integer.toString(dev.drawbridge.protocol.Protocol.VERSION));
    return mismatch ? proxyProtocol : null;
  }

  int status() {
    return status;
  }

  /** 401 and 403: retrying with the same token cannot help. */
  boolean isAuthProblem() {
    return fromDrawbridge && (status == 401 || status == 403);
  }

  /** True when the answer came from a Drawbridge proxy rather than from whatever hosts it. */
  boolean fromDrawbridge() {
    return fromDrawbridge;
  }

  /** 4xx other than auth: a configuration mismatch (unknown backend, protocol version). */
  boolean isConfigProblem() {
    return fromDrawbridge
        && status >= 400
        && status < 500
        && !isAuthProblem()
        && status != 408
        && status != 429;
  }
}
