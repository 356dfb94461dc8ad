package dev.drawbridge.proxy.exchange;

import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One line per ended exchange on the {@code dev.drawbridge.access} logger, in key=value form so it
 * can be grepped by exchange id and parsed by log shippers. The agent logs the same id.
 */
final class AccessLog {

  private static final Logger LOG = Logger.getLogger("dev.drawbridge.access");

  void log(Exchange exchange) {
    if (!LOG.isLoggable(Level.INFO)) {
      return;
    }
    long created = exchange.createdNanos();
    long delivered = exchange.deliveredNanos();
    long ended = exchange.endedNanos();
    long queueMillis = millis((delivered != 0 ? delivered : ended) - created);
    long agentMillis = delivered != 0 ? millis(ended - delivered) : 0;
    String reason = exchange.reason();
    // logp names the source, so the handler does not walk the stack to find it: this is the hot path.
    LOG.logp(
        Level.INFO,
        AccessLog.class.getName(),
        "log",
        "exchange="
            + exchange.id()
            + " backend="
            + exchange.backend().id()
            + " method="
            + exchange.head().method()
            + " target="
            + quote(exchange.head().target())
            + " status="
            + exchange.status()
            + " outcome="
            + exchange.state()
            + " bytesIn="
            + exchange.bytesFromClient()
            + " bytesOut="
            + exchange.bytesToClient()
            + " queueMs="
            + queueMillis
            + " agentMs="
            + agentMillis
            + " totalMs="
            + millis(ended - created)
            + (exchange.isUpgrade() ? " upgrade=" + quote(exchange.head().upgrade()) : "")
            + " client="
            + exchange.clientAddress()
            + " agent="
            + (exchange.agentId() == null ? "-" : exchange.agentId())
            + (reason == null ? "" : " reason=" + quote(reason)));
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(Math.max(0, nanos));
  }

  private static String quote(String value) {
    StringBuilder quoted = new StringBuilder(value.length() + 2).append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '"' || c == '\\') {
        quoted.append('\\').append(c);
      } else if (c < 0x20 || c == 0x7F) {
        quoted.append(String.format("\\x%02x", (int) c));
      } else {
        quoted.append(c);
      }
    }
    return quoted.append('"').toString();
  }
}
