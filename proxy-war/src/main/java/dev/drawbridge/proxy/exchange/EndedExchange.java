package dev.drawbridge.proxy.exchange;

import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * What is worth knowing of an exchange once it ended: an immutable copy for the operator's views
 * (recent activity, metrics), taken once in {@link Tunnel} so none of them reads a live exchange.
 *
 * @param status the status the client got: the backend's, or the proxy's error (499 when the client left)
 * @param outcome the terminal state
 * @param reason why the exchange did not complete (the client's sentence, or the details it was
 *     spared, such as an agent's own report), else null
 * @param agentId the agent that owned it, or null when no agent took it
 * @param queueNanos time queued before an agent took it (until it ended, if none did)
 * @param agentNanos time from delivery to the end, 0 when never delivered
 * @param totalNanos time from the client's request to the end
 */
public record EndedExchange(
    String id,
    String backendId,
    String method,
    String target,
    int status,
    ExchangeState outcome,
    String reason,
    String agentId,
    String clientAddress,
    long bytesIn,
    long bytesOut,
    long queueNanos,
    long agentNanos,
    long totalNanos,
    Instant endedAt) {

  /** Names of the status classes, by hundreds; "other" for what is not 1xx to 5xx. */
  private static final String[] STATUS_CLASSES = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};

  static EndedExchange of(Exchange exchange) {
    long created = exchange.createdNanos();
    long delivered = exchange.deliveredNanos();
    long ended = exchange.endedNanos();
    return new EndedExchange(
        exchange.id(),
        exchange.backend().id(),
        exchange.head().method(),
        exchange.head().target(),
        exchange.status(),
        exchange.state(),
        exchange.reason(),
        exchange.agentId(),
        exchange.clientAddress(),
        exchange.bytesFromClient(),
        exchange.bytesToClient(),
        Math.max(0, (delivered != 0 ? delivered : ended) - created),
        delivered != 0 ? Math.max(0, ended - delivered) : 0,
        Math.max(0, ended - created),
        Instant.now());
  }

  /** True when the client got the whole response (whatever its status). */
  public boolean completed() {
    return outcome == ExchangeState.COMPLETED;
  }

  /** "2xx" to "5xx" for the status classes; "499" (client gone) counts as 4xx. */
  public String statusClass() {
    int hundreds = status / 100;
    return STATUS_CLASSES[hundreds >= 1 && hundreds <= 5 ? hundreds : 0];
  }

  public long totalMillis() {
    return TimeUnit.NANOSECONDS.toMillis(totalNanos);
  }
}
