package dev.drawbridge.proxy.exchange;

/** Where an exchange is in its life; see the diagram on {@link Exchange}. */
public enum ExchangeState {
  /** Waiting in its backend's queue for an agent. */
  QUEUED,
  /** Handed to an agent, which has not started the response yet. */
  DELIVERED,
  /** The agent's response head reached the client; the body is streaming. */
  RESPONDING,
  /** The whole response reached the client. */
  COMPLETED,
  /** A deadline passed: no agent took it, the agent did not answer, or the stream went silent. */
  EXPIRED,
  /** The client went away. */
  CLIENT_GONE,
  /** The agent, the backend or the proxy failed the exchange. */
  FAILED;

  /** True for the states an exchange never leaves. */
  public boolean isTerminal() {
    return this == COMPLETED || this == EXPIRED || this == CLIENT_GONE || this == FAILED;
  }
}
