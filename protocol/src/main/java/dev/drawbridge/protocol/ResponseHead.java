package dev.drawbridge.protocol;

import java.util.List;

/**
 * The first frame of an agent's response call: either a backend response head or a failure.
 *
 * @param status backend status code (100 to 999 excluding 1xx interim codes), or 0 with a failure
 * @param headers end-to-end backend response headers
 * @param failure why no backend response exists, or null when there is one
 * @param message one sentence for the client and the logs when {@code failure} is set
 */
public record ResponseHead(int status, List<HeaderField> headers, Failure failure, String message) {

  /** A head that reports a failure instead of a backend response. */
  public static ResponseHead failed(Failure failure, String message) {
    return new ResponseHead(0, List.of(), failure, message);
  }
}
