package dev.drawbridge.protocol;

import jakarta.json.bind.Jsonb;
import jakarta.json.bind.JsonbBuilder;
import jakarta.json.bind.JsonbException;
import java.nio.charset.StandardCharsets;

/**
 * The one JSON-B instance of a process; Jsonb is thread-safe and costly to create. For the
 * messages on every request's path use {@link WireJson}; this is for the rest (status reports,
 * readiness, tests).
 */
public final class Json {

  private static final Jsonb JSONB = JsonbBuilder.create();

  private Json() {}

  /** Serialises {@code value} to UTF-8 JSON. */
  public static byte[] toBytes(Object value) {
    return JSONB.toJson(value).getBytes(StandardCharsets.UTF_8);
  }

  /** Serialises {@code value} to a JSON string. */
  public static String toJson(Object value) {
    return JSONB.toJson(value);
  }

  /**
   * Parses UTF-8 JSON into {@code type}.
   *
   * @throws FrameException when the bytes are not a valid {@code type}
   */
  public static <T> T fromBytes(byte[] json, Class<T> type) throws FrameException {
    return fromJson(new String(json, StandardCharsets.UTF_8), type);
  }

  /**
   * Parses JSON text into {@code type}.
   *
   * @throws FrameException when the text is not a valid {@code type}
   */
  public static <T> T fromJson(String json, Class<T> type) throws FrameException {
    try {
      T value = JSONB.fromJson(json, type);
      if (value == null) {
        throw new FrameException("expected a JSON object, got null");
      }
      return value;
    } catch (JsonbException e) {
      throw new FrameException("malformed " + type.getSimpleName() + " JSON");
    }
  }
}
