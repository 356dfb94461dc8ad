package dev.drawbridge.protocol;

import jakarta.json.spi.JsonProvider;
import jakarta.json.stream.JsonGenerator;
import jakarta.json.stream.JsonGeneratorFactory;
import jakarta.json.stream.JsonParser;
import jakarta.json.stream.JsonParserFactory;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The JSON of the messages on every request's path ({@link PollResult}, {@link ResponseHead},
 * {@link BatchAnswer}), written and read by hand on the JSON-P stream API instead of through
 * {@link Json}'s JSON-B, which took about twice the time.
 *
 * <p>The bytes are those JSON-B writes: the same property names in the same (alphabetical) order,
 * null properties left out, enum constants by name. Reading is as tolerant as JSON-B where peers
 * may differ and stricter where they must not: unknown properties are skipped, missing ones take
 * the values JSON-B gives (null, 0, false), the last of duplicate properties wins; a value of the
 * wrong type, a fraction or an out-of-range number, an unknown constant, a null list element, or
 * anything but one object in the document is a {@link FrameException}.
 */
public final class WireJson {

  private static final JsonProvider PROVIDER = JsonProvider.provider();
  private static final JsonParserFactory PARSERS = PROVIDER.createParserFactory(Map.of());
  private static final JsonGeneratorFactory GENERATORS = PROVIDER.createGeneratorFactory(Map.of());

  private WireJson() {}

  /** Writes an element of an array; {@link #writeArray} has taken care of null. */
  @FunctionalInterface
  private interface ElementWriter<T> {
    void write(JsonGenerator out, T element);
  }

  /** The answer to a poll as UTF-8 JSON. */
  public static byte[] write(PollResult poll) {
    StringWriter buffer = new StringWriter(1024);
    try (JsonGenerator out = GENERATORS.createGenerator(buffer)) {
      out.writeStartObject();
      writeArray(out, "cancelled", poll.cancelled(), JsonGenerator::write);
      out.write("draining", poll.draining());
      writeArray(out, "exchanges", poll.exchanges(), WireJson::writeRequestHead);
      out.write("streamMillis", poll.streamMillis());
      out.writeEnd();
    }
    return utf8(buffer);
  }

  /** A response head as UTF-8 JSON. */
  public static byte[] write(ResponseHead head) {
    StringWriter buffer = new StringWriter(512);
    try (JsonGenerator out = GENERATORS.createGenerator(buffer)) {
      out.writeStartObject();
      writeString(out, "failure", head.failure() == null ? null : head.failure().name());
      writeArray(out, "headers", head.headers(), WireJson::writeHeaderField);
      writeString(out, "message", head.message());
      out.write("status", head.status());
      out.writeEnd();
    }
    return utf8(buffer);
  }

  /** The answer to a response batch as UTF-8 JSON. */
  public static byte[] write(BatchAnswer answer) {
    StringWriter buffer = new StringWriter(128);
    try (JsonGenerator out = GENERATORS.createGenerator(buffer)) {
      out.writeStartObject();
      writeArray(out, "refused", answer.refused(), WireJson::writeRefusal);
      out.writeEnd();
    }
    return utf8(buffer);
  }

  /**
   * Reads the answer to a poll.
   *
   * @throws FrameException when the bytes are not one valid {@link PollResult} object
   */
  public static PollResult readPollResult(byte[] json) throws FrameException {
    return read(json, "PollResult", WireJson::readPollResult);
  }

  /**
   * Reads a response head.
   *
   * @throws FrameException when the bytes are not one valid {@link ResponseHead} object
   */
  public static ResponseHead readResponseHead(byte[] json) throws FrameException {
    return read(json, "ResponseHead", WireJson::readResponseHead);
  }

  /**
   * Reads the answer to a response batch.
   *
   * @throws FrameException when the bytes are not one valid {@link BatchAnswer} object
   */
  public static BatchAnswer readBatchAnswer(byte[] json) throws FrameException {
    return read(json, "BatchAnswer", WireJson::readBatchAnswer);
  }

  // Writing: properties in alphabetical order, as JSON-B writes them.

  /**
   * The text as UTF-8. Generating into a String and encoding it once costs less than a generator
   * on an OutputStream, whose encoder allocates an 8 KiB buffer per message.
   */
  private static byte[] utf8(StringWriter text) {
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void writeRequestHead(JsonGenerator out, RequestHead head) {
    out.writeStartObject();
    writeString(out, "backend", head.backend());
    writeString(out, "body", head.body() == null ? null : head.body().name());
    out.write("bodyLength", head.bodyLength());
    writeArray(out, "headers", head.headers(), WireJson::writeHeaderField);
    writeString(out, "id", head.id());
    writeString(out, "inlineBody", head.inlineBody());
    writeString(out, "method", head.method());
    writeString(out, "target", head.target());
    writeString(out, "upgrade", head.upgrade());
    out.writeEnd();
  }

  private static void writeHeaderField(JsonGenerator out, HeaderField field) {
    out.writeStartObject();
    writeString(out, "name", field.name());
    writeString(out, "value", field.value());
    out.writeEnd();
  }

  private static void writeRefusal(JsonGenerator out, BatchAnswer.Refusal refusal) {
    out.writeStartObject();
    writeString(out, "exchange", refusal.exchange());
    writeString(out, "message", refusal.message());
    out.write("status", refusal.status());
    out.writeEnd();
  }

  private static void writeString(JsonGenerator out, String name, String value) {
    if (value != null) {
      out.write(name, value);
    }
  }

  /** Leaves out a null list; writes a null element as null, as JSON-B does. */
  private static <T> void writeArray(
      JsonGenerator out, String name, List<T> list, ElementWriter<T> element) {
    if (list == null) {
      return;
    }
    out.writeStartArray(name);
    for (T item : list) {
      if (item == null) {
        out.writeNull();
      } else {
        element.write(out, item);
      }
    }
    out.writeEnd();
  }

  // Reading: each reader starts after an object's opening brace and ends after its closing one.

  private static <T> T read(byte[] json, String type, JsonCursor.ObjectReader<T> reader)
      throws FrameException {
    // Decoded here rather than by the parser: its InputStreamReader allocates an 8 KiB buffer per
    // message, and it would sniff the bytes for UTF-16 or UTF-32. Malformed UTF-8 becomes U+FFFD,
    // as it did for JSON-B.
    String text = new String(json, StandardCharsets.UTF_8);
    try (JsonParser parser = PARSERS.createParser(new StringReader(text))) {
      return new JsonCursor(parser).document(reader);
    } catch (FrameException e) {
      throw new FrameException(type + ": " + e.getMessage());
    }
  }

  private static PollResult readPollResult(JsonCursor in) throws FrameException {
    List<RequestHead> exchanges = null;
    List<String> cancelled = null;
    boolean draining = false;
    long streamMillis = 0;
    while (in.nextProperty()) {
      switch (in.property()) {
        case "exchanges" -> exchanges = in.objects(WireJson::readRequestHead);
        case "cancelled" -> cancelled = in.strings();
        case "draining" -> draining = in.bool();
        case "streamMillis" -> streamMillis = in.longValue();
        default -> in.skipValue();
      }
    }
    return new PollResult(exchanges, cancelled, draining, streamMillis);
  }

  private static RequestHead readRequestHead(JsonCursor in) throws FrameException {
    String id = null;
    String backend = null;
    String method = null;
    String target = null;
    List<HeaderField> headers = null;
    BodyMode body = null;
    long bodyLength = 0;
    String inlineBody = null;
    String upgrade = null;
    while (in.nextProperty()) {
      switch (in.property()) {
        case "id" -> id = in.string();
        case "backend" -> backend = in.string();
        case "method" -> method = in.string();
        case "target" -> target = in.string();
        case "headers" -> headers = in.objects(WireJson::readHeaderField);
        case "body" -> body = in.constant(BodyMode.class);
        case "bodyLength" -> bodyLength = in.longValue();
        case "inlineBody" -> inlineBody = in.string();
        case "upgrade" -> upgrade = in.string();
        default -> in.skipValue();
      }
    }
    return new RequestHead(id, backend, method, target, headers, body, bodyLength, inlineBody, upgrade);
  }

  private static HeaderField readHeaderField(JsonCursor in) throws FrameException {
    String name = null;
    String value = null;
    while (in.nextProperty()) {
      switch (in.property()) {
        case "name" -> name = in.string();
        case "value" -> value = in.string();
        default -> in.skipValue();
      }
    }
    return new HeaderField(name, value);
  }

  private static ResponseHead readResponseHead(JsonCursor in) throws FrameException {
    int status = 0;
    List<HeaderField> headers = null;
    Failure failure = null;
    String message = null;
    while (in.nextProperty()) {
      switch (in.property()) {
        case "status" -> status = in.intValue();
        case "headers" -> headers = in.objects(WireJson::readHeaderField);
        case "failure" -> failure = in.constant(Failure.class);
        case "message" -> message = in.string();
        default -> in.skipValue();
      }
    }
    return new ResponseHead(status, headers, failure, message);
  }

  private static BatchAnswer readBatchAnswer(JsonCursor in) throws FrameException {
    List<BatchAnswer.Refusal> refused = null;
    while (in.nextProperty()) {
      if (in.property().equals("refused")) {
        refused = in.objects(WireJson::readRefusal);
      } else {
        in.skipValue();
      }
    }
    return new BatchAnswer(refused);
  }

  private static BatchAnswer.Refusal readRefusal(JsonCursor in) throws FrameException {
    String exchange = null;
    int status = 0;
    String message = null;
    while (in.nextProperty()) {
      switch (in.property()) {
        case "exchange" -> exchange = in.string();
        case "status" -> status = in.intValue();
        case "message" -> message = in.string();
        default -> in.skipValue();
      }
    }
    return new BatchAnswer.Refusal(exchange, status, message);
  }
}
