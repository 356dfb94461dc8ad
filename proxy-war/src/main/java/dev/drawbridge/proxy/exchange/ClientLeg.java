package dev.drawbridge.proxy.exchange;

import dev.drawbridge.proxy.net.ConnectionKey;

/**
 * The client's side of an exchange, as the state machine needs it. The web layer implements it over
 * the client's {@code AsyncContext}; exactly one of the ending methods is called, exactly once, by
 * {@link Exchange}.
 */
public interface ClientLeg {

  /** Whether the response head has been sent, after which only {@link #abort} can signal failure. */
  boolean isCommitted();

  /**
   * Answers with an error and ends the request.
   *
   * @param retryAfterSeconds value of {@code Retry-After}, or 0 for none
   */
  void sendError(int status, String message, int retryAfterSeconds);

  /** Ends a response whose body was written completely. */
  void complete();

  /** Cuts a committed response so the client cannot mistake it for a complete one. */
  void abort(String reason);

  /**
   * Releases a request whose client is gone, or at least stopped sending: a client still reading
   * learns so from a short error and a closed connection, never from an empty success.
   */
  void discard();

  /** The client's TCP connection, to check whether the client closed it; null when unknown. */
  default ConnectionKey connection() {
    return null;
  }
}
