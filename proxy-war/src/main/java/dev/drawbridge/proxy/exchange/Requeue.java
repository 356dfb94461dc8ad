package dev.drawbridge.proxy.exchange;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.RequestHead;
import java.util.Set;

/** Which requests may be handed to a second agent after the first one was lost. */
final class Requeue {

  /** Idempotent methods, RFC 9110 §9.2.2: repeating one has the effect of sending it once. */
  private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");

  private Requeue() {}

  /**
   * True when the request is idempotent and the proxy still holds all of its body: none, or inline
   * in the head. A streamed body may have been partly consumed and cannot be sent again.
   */
  static boolean allows(RequestHead head) {
    return IDEMPOTENT.contains(head.method())
        && (head.body() == BodyMode.NONE || head.body() == BodyMode.INLINE);
  }
}
