package dev.drawbridge.agent;

import java.io.IOException;

/** The proxy answered an agent call with an unexpected status; the message is the proxy's one-line body. */
final class ProxyStatusException extends IOException {

  private static final long serialVersionUID = 1L;

  private final int status;
  private final boolean fromDrawbridge;

  /**
   * @param fromDrawbridge whether the answer came from a Drawbridge proxy (it carries the proxy's
   *     version header); a container's own 404 during a redeploy is not a verdict on the agent
   */
  ProxyStatusException(int status, String message, boolean fromDrawbridge) {
    super(message);
    this.status = status;
    this.fromDrawbridge = fromDrawbridge;
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
