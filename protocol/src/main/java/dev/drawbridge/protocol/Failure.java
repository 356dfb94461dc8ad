package dev.drawbridge.protocol;

/** Why an agent could not produce a backend response, and the status the client gets for it. */
public enum Failure {
  /** The backend refused or dropped the connection, or could not be resolved. */
  BACKEND_UNREACHABLE(502),
  /** The backend did not answer within the agent's timeout. */
  BACKEND_TIMEOUT(504),
  /** The backend answered with something that is not valid HTTP. */
  BAD_BACKEND_RESPONSE(502),
  /** The agent is shutting down and did not start the request. */
  AGENT_DRAINING(503);

  private final int status;

  Failure(int status) {
    this.status = status;
  }

  /** HTTP status the proxy answers the client with. */
  public int status() {
    return status;
  }
}
