package dev.drawbridge.protocol;

import java.util.List;

/**
 * The proxy's answer to a batch of responses when some did not reach their exchange.
 *
 * @param refused one entry per response the proxy did not pass on, in batch order
 */
public record BatchAnswer(List<Refusal> refused) {

  /**
   * A response the proxy did not pass on.
   *
   * @param exchange the exchange id the agent named
   * @param status what a per-exchange call would have answered: 403, 404, 409 or 410, or 400 for a
   *     response the proxy refused (the client got 502)
   * @param message one sentence
   */
  public record Refusal(String exchange, int status, String message) {}
}
