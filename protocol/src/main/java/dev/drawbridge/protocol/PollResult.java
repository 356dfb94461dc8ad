package dev.drawbridge.protocol;

import java.util.List;

/**
 * Answer to a poll.
 *
 * @param exchanges requests now owned by the polling agent, at most the poll's {@code max}
 * @param cancelled ids of this agent's exchanges whose client went away or that timed out: stop
 *     working on them
 * @param draining true when the proxy is shutting down: finish in-flight work, then reconnect later
 */
public record PollResult(List<RequestHead> exchanges, List<String> cancelled, boolean draining) {}
