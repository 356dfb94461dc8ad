package dev.drawbridge.protocol;

import java.io.IOException;

/** A framed stream or protocol head broke the protocol's rules; the message is one sentence. */
public class FrameException extends IOException {

  private static final long serialVersionUID = 1L;

  public FrameException(String message) {
    super(message);
  }
}
