package dev.drawbridge.proxy.web.client;

import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.proxy.http.ResponseHeadRules;
import java.util.List;

/**
 * What the client of a protocol-switch handshake gets, decided by the relay (the backend's answer)
 * or by the exchange (an error), and carried out by the client's own request thread.
 *
 * @param status 101 to switch, another backend status to relay as an ordinary response, or the
 *     proxy's error status
 * @param headers the headers to send (checked already), empty for an error
 * @param contentLength the relayed body's declared length, or -1
 * @param message the one-sentence error, or null when the backend answered
 * @param retryAfterSeconds {@code Retry-After} of an error, or 0
 */
record HandshakeAnswer(int status, List<HeaderField> headers, long contentLength, String message, int retryAfterSeconds) {

  static HandshakeAnswer backend(ResponseHeadRules.Verdict verdict) {
    return new HandshakeAnswer(verdict.status(), verdict.headers(), verdict.contentLength(), null, 0);
  }

  static HandshakeAnswer error(int status, String message, int retryAfterSeconds) {
    return new HandshakeAnswer(status, List.of(), -1, message, retryAfterSeconds);
  }

  boolean isError() {
    return message != null;
  }

  boolean switches() {
    return !isError() && status == 101;
  }
}
