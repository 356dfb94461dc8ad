package dev.drawbridge.it.support;

import dev.drawbridge.protocol.HeaderField;
import java.util.List;
import java.util.Optional;

/**
 * A request as the backend received it. The echo responder sends this same record back as JSON,
 * so a test can read it from either end: {@code Json.fromJson(body, RecordedRequest.class)}.
 *
 * @param method request method
 * @param target request target (path and query) exactly as it arrived, still percent-encoded
 * @param headers every header line, in arrival order
 * @param bodyLength bytes of body received
 * @param bodySha256 lowercase hex SHA-256 of the whole body
 * @param body the first {@link Backend#KEPT_BODY_BYTES} bytes of the body as UTF-8 text
 */
public record RecordedRequest(
    String method,
    String target,
    List<HeaderField> headers,
    long bodyLength,
    String bodySha256,
    String body) {

  /** The first value of header {@code name} (case-insensitive), if present. */
  public Optional<String> header(String name) {
    return headers.stream()
        .filter(field -> field.name().equalsIgnoreCase(name))
        .map(HeaderField::value)
        .findFirst();
  }

  /** Every value of header {@code name} (case-insensitive), in arrival order. */
  public List<String> headerValues(String name) {
    return headers.stream()
        .filter(field -> field.name().equalsIgnoreCase(name))
        .map(HeaderField::value)
        .toList();
  }
}
