package dev.drawbridge.protocol;

import java.util.List;

/**
 * A client request as the proxy hands it to an agent.
 *
 * @param id unguessable exchange id, used in every later call about this exchange
 * @param backend the backend the request was routed to
 * @param method request method, as sent by the client
 * @param target request target (path and query), byte for byte as the client sent it
 * @param headers end-to-end request headers, forwarding headers already added by the proxy
 * @param body how the body travels
 * @param bodyLength body length in bytes, or -1 when the client did not declare one
 * @param inlineBody base64 body when {@code body} is {@link BodyMode#INLINE}, else null
 * @param upgrade the protocols the client asked to switch to (its {@code Upgrade} value, e.g.
 *     {@code websocket}), or null for an ordinary request; see {@link Protocol#FEATURE_UPGRADE}
 */
public record RequestHead(
    String id,
    String backend,
    String method,
    String target,
    List<HeaderField> headers,
    BodyMode body,
    long bodyLength,
    String inlineBody,
    String upgrade) {

  /** The full form; JSON-B needs to be told which of the two constructors reads a message. */
  @jakarta.json.bind.annotation.JsonbCreator
  public RequestHead {}

  /** An ordinary request, one that asks for no protocol switch. */
  public RequestHead(
      String id,
      String backend,
      String method,
      String target,
      List<HeaderField> headers,
      BodyMode body,
      long bodyLength,
      String inlineBody) {
    this(id, backend, method, target, headers, body, bodyLength, inlineBody, null);
  }

  /** True when the client asked to switch protocols (a WebSocket handshake, for one). */
  public boolean wantsUpgrade() {
    return upgrade != null;
  }
}
