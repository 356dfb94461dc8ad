package dev.drawbridge.proxy.exchange;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.Methods;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.proxy.config.ProxySettings;

/** Which requests may be handed to a second agent after the first one was lost. */
final class Requeue {

  private Requeue() {}

  /**
   * True when the request is idempotent and the proxy still holds all of its body: none, or inline
   * in the head. A streamed body may have been partly consumed and cannot be sent again.
   */
  static boolean allows(RequestHead head) {
    return Methods.isIdempotent(head.method())
        && (head.body() == BodyMode.NONE || head.body() == BodyMode.INLINE);
  }

  /** True when {@code settings} let a lost agent's work be requeued and {@link #allows} this request. */
  static boolean afterLoss(ProxySettings settings, RequestHead head) {
    return settings.requeueOnAgentLoss() && allows(head);
  }
}
