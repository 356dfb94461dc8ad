package dev.drawbridge.proxy.http;

import java.util.Locale;

/**
 * Holds one response body to the length its head promised the client.
 *
 * <p>A client on a kept-alive or pipelined connection finds the end of a response only by its
 * framing (RFC 9112 section 6.3). A body that ends short of its declared {@code Content-Length}
 * makes the client read the next response on that connection as the rest of this one, and bytes
 * beyond it would be read as the start of the next: either way one response corrupts another. So
 * every body byte an agent sends is counted here before it is written, and a response may end
 * normally only when the count is exactly what the client was promised. Anything else ends the
 * exchange as a failure, which closes the client's connection once the head is out.
 *
 * <p>Bodies that must be empty count too, with a length of zero whatever the head declared: the
 * answer to a {@code HEAD} request and the statuses 1xx, 204 and 304, which a client reads as
 * ending with their head (RFC 9112 section 6.3). Without a declared length the container frames
 * the body itself (chunked, or until the connection closes), so any count fits.
 *
 * <p>One instance counts one response, on one thread at a time.
 */
public final class ResponseLength {

  /** The body length the client was promised, or -1 when the container frames the body. */
  private final long expected;

  private long counted;

  private ResponseLength(long expected) {
    this.expected = expected;
  }

  /**
   * The length rule for one response.
   *
   * @param requestMethod the client's request method
   * @param status the response status sent to the client
   * @param declaredLength the response's {@code Content-Length}, or -1 for none
   */
  public static ResponseLength of(String requestMethod, int status, long declaredLength) {
    if (mustBeEmpty(requestMethod, status)) {
      return new ResponseLength(0);
    }
    return new ResponseLength(declaredLength < 0 ? -1 : declaredLength);
  }

  /** True when a response to {@code requestMethod} with {@code status} carries no body at all. */
  public static boolean mustBeEmpty(String requestMethod, int status) {
    return "HEAD".equals(requestMethod.toUpperCase(Locale.ROOT))
        || (status >= 100 && status < 200)
        || status == 204
        || status == 304;
  }

  /**
   * Counts {@code n} body bytes before they are written. Returns false, counting nothing, when
   * they would take the body past its length: then none of them may reach the client.
   */
  public boolean admit(long n) {
    if (n < 0) {
      throw new IllegalArgumentException("a body cannot grow by " + n + " bytes");
    }
    if (expected >= 0 && n > expected - counted) {
      return false;
    }
    counted += n;
    return true;
  }

  /** True when the body may end here: the client got exactly what it was promised. */
  public boolean complete() {
    return expected < 0 || counted == expected;
  }

  /** True when a whole body of {@code length} bytes fits this response exactly. */
  public boolean fitsWhole(long length) {
    return counted == 0 && admit(length) && complete();
  }

  /** The body bytes the client was promised, or -1 when the container frames the body. */
  public long expected() {
    return expected;
  }

  /** Body bytes admitted so far. */
  public long counted() {
    return counted;
  }

  /**
   * Why a body of {@code sent} bytes does not fit, in one sentence for the agent's answer and the
   * proxy's log.
   */
  public String mismatch(long sent) {
    if (expected == 0) {
      return "The response must have no body, but " + sent + " body bytes were sent.";
    }
    if (sent < expected) {
      return "The response body ended after " + sent + " of its " + expected + " declared bytes.";
    }
    return "The response body ran past its " + expected + " declared bytes (" + sent + " bytes sent).";
  }
}
