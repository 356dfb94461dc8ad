package dev.drawbridge.protocol;

import jakarta.json.JsonException;
import jakarta.json.stream.JsonParser;
import jakarta.json.stream.JsonParser.Event;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * A strict walk over one JSON document: each read takes the value of the property just named and
 * insists on its type. Everything the parser throws becomes a {@link FrameException}, so readers
 * built on this class fail in one way only.
 */
final class JsonCursor {

  /** Reads one object's properties once its opening brace is consumed, up to its closing brace. */
  @FunctionalInterface
  interface ObjectReader<T> {
    T read(JsonCursor in) throws FrameException;
  }

  private final JsonParser parser;
  private String property = "";

  JsonCursor(JsonParser parser) {
    this.parser = parser;
  }

  /** Reads the document: one object, then nothing but white space. */
  <T> T document(ObjectReader<T> reader) throws FrameException {
    Event event = next();
    if (event != Event.START_OBJECT) {
      throw new FrameException("expected a JSON object, got " + describe(event));
    }
    T value = reader.read(this);
    try {
      if (parser.hasNext()) {
        throw new FrameException("unexpected content after the JSON object");
      }
    } catch (JsonException e) {
      throw new FrameException("unexpected content after the JSON object");
    }
    return value;
  }

  /**
   * Moves to the next property of the current object.
   *
   * @return false at the object's end
   */
  boolean nextProperty() throws FrameException {
    // Inside an object the parser yields only names and the closing brace here.
    if (next() == Event.END_OBJECT) {
      return false;
    }
    property = parser.getString();
    return true;
  }

  /** The name of the property whose value comes next. */
  String property() {
    return property;
  }

  /** Passes over the current property's value, whatever it holds. */
  void skipValue() throws FrameException {
    // Counted here rather than with skipObject() and skipArray(): Parsson's loop forever on a
    // truncated document (eclipse-ee4j/parsson#23), and do not check what they pass over.
    int depth = 0;
    do {
      Event event = next();
      if (event == Event.START_OBJECT || event == Event.START_ARRAY) {
        depth++;
      } else if (event == Event.END_OBJECT || event == Event.END_ARRAY) {
        depth--;
      }
    } while (depth > 0);
  }

  /** A string or null. */
  String string() throws FrameException {
    Event event = next();
    if (event == Event.VALUE_STRING) {
      return parser.getString();
    }
    if (event == Event.VALUE_NULL) {
      return null;
    }
    throw wrongType("a string", event);
  }

  /** True or false; null is refused, as JSON-B refuses it for a primitive. */
  boolean bool() throws FrameException {
    Event event = next();
    if (event == Event.VALUE_TRUE) {
      return true;
    }
    if (event == Event.VALUE_FALSE) {
      return false;
    }
    throw wrongType("true or false", event);
  }

  /** A whole number within int range, in any notation ({@code 200}, {@code 2e2}, {@code 200.0}). */
  int intValue() throws FrameException {
    try {
      return number().intValueExact();
    } catch (ArithmeticException e) {
      throw new FrameException(property + " must be a whole number within int range");
    }
  }

  /** A whole number within long range. */
  long longValue() throws FrameException {
    try {
      return number().longValueExact();
    } catch (ArithmeticException e) {
      throw new FrameException(property + " must be a whole number within long range");
    }
  }

  /** One of {@code type}'s constants, spelled as its name, or null. */
  <E extends Enum<E>> E constant(Class<E> type) throws FrameException {
    String spelling = string();
    if (spelling == null) {
      return null;
    }
    try {
      return Enum.valueOf(type, spelling);
    } catch (IllegalArgumentException e) {
      throw new FrameException(property + " must be one of " + Arrays.toString(type.getEnumConstants()));
    }
  }

  /** An array of strings, or null; null elements are refused. */
  List<String> strings() throws FrameException {
    String name = property;
    if (!startArray()) {
      return null;
    }
    List<String> items = new ArrayList<>();
    for (Event event = next(); event != Event.END_ARRAY; event = next()) {
      if (event != Event.VALUE_STRING) {
        throw new FrameException(name + " must hold strings, not " + describe(event));
      }
      items.add(parser.getString());
    }
    return Collections.unmodifiableList(items);
  }

  /** An array of objects read by {@code reader}, or null; null elements are refused. */
  <T> List<T> objects(ObjectReader<T> reader) throws FrameException {
    String name = property;
    if (!startArray()) {
      return null;
    }
    List<T> items = new ArrayList<>();
    for (Event event = next(); event != Event.END_ARRAY; event = next()) {
      if (event != Event.START_OBJECT) {
        throw new FrameException(name + " must hold objects, not " + describe(event));
      }
      items.add(reader.read(this));
    }
    return Collections.unmodifiableList(items);
  }

  /** Consumes the opening bracket; false for null. */
  private boolean startArray() throws FrameException {
    Event event = next();
    if (event == Event.VALUE_NULL) {
      return false;
    }
    if (event != Event.START_ARRAY) {
      throw wrongType("an array", event);
    }
    return true;
  }

  private BigDecimal number() throws FrameException {
    Event event = next();
    if (event != Event.VALUE_NUMBER) {
      throw wrongType("a number", event);
    }
    try {
      return parser.getBigDecimal();
    } catch (UnsupportedOperationException | NumberFormatException e) {
      // Parsson refuses numbers of more than 1100 characters; BigDecimal, exponents beyond int.
      throw new FrameException(property + " is too large a number");
    }
  }

  private Event next() throws FrameException {
    try {
      return parser.next();
    } catch (JsonException | NoSuchElementException e) {
      // Parsson's locations are off on short input, so the message names none.
      throw new FrameException("malformed or truncated JSON");
    } catch (RuntimeException e) {
      // Parsson reports nesting beyond its depth limit with a bare RuntimeException.
      throw new FrameException("malformed JSON: " + e.getMessage());
    }
  }

  private FrameException wrongType(String expected, Event event) {
    return new FrameException(property + " must be " + expected + ", not " + describe(event));
  }

  private static String describe(Event event) {
    return switch (event) {
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      case START_OBJECT -> "an object";
      case START_ARRAY -> "an array";
      default -> event.toString();
    };
  }
}
