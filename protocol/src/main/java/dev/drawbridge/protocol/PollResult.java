package dev.drawbridge.protocol;

import jakarta.json.bind.annotation.JsonbCreator;
import java.util.List;

/**
 * Answer to a poll.
 *
 * @param exchanges requests now owned by the polling agent, at most the poll's {@code max}
 * @param cancelled ids of this agent's exchanges whose client went away or that timed out: stop
 *     working on them
 * @param draining true when the proxy is shutting down: finish in-flight work, then reconnect later
 * @param streamMillis in a streamed poll, how long ago the proxy wrote the stream's first answer;
 *     an agent that received the two much closer together than that is behind something that
 *     holds the stream back, and polls plainly. 0 in a plain poll's answer.
 */
public record PollResult(List<RequestHead> exchanges, List<String> cancelled, boolean draining, long streamMillis) {

  /** The canonical constructor, which JSON-B is to use. */
  @JsonbCreator
  public PollResult {}

  /** A plain poll's answer. */
  public PollResult(List<RequestHead> exchanges, List<String> cancelled, boolean draining) {
    this(exchanges, cancelled, draining, 0);
  }
}
