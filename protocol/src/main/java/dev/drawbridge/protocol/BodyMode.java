package dev.drawbridge.protocol;

/** How a client request's body reaches the agent. */
public enum BodyMode {
  /** The request has no body. */
  NONE,
  /** The whole body is in {@link RequestHead#inlineBody()}, base64-encoded. */
  INLINE,
  /** The agent fetches the body as frames from the request-body call. */
  STREAM
}
