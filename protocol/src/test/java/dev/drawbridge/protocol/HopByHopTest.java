package dev.drawbridge.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HopByHopTest {

  private static List<HeaderField> fields(String... nameValues) {
    List<HeaderField> list = new ArrayList<>();
    for (int i = 0; i < nameValues.length; i += 2) {
      list.add(new HeaderField(nameValues[i], nameValues[i + 1]));
    }
    return list;
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(fields("Accept", "*/*"), fields("Accept", "*/*")),
        Arguments.of(fields("Connection", "keep-alive", "Keep-Alive", "timeout=5", "Accept", "a"), fields("Accept", "a")),
        Arguments.of(fields("Transfer-Encoding", "chunked", "TE", "trailers", "Trailer", "X", "Upgrade", "h2c"), fields()),
        Arguments.of(fields("Proxy-Connection", "close", "Proxy-Authorization", "Basic x", "Proxy-Authenticate", "Basic"), fields()),
        Arguments.of(fields("Connection", "X-Secret, x-other", "X-Secret", "1", "X-Other", "2", "X-Kept", "3"), fields("X-Kept", "3")),
        Arguments.of(fields("connection", " ,Foo ,", "foo", "1", "Set-Cookie", "a=1", "Set-Cookie", "b=2"), fields("Set-Cookie", "a=1", "Set-Cookie", "b=2")));
  }

  @ParameterizedTest
  @MethodSource("cases")
  void keepsOnlyEndToEndHeaders(List<HeaderField> in, List<HeaderField> expected) {
    assertEquals(expected, HopByHop.endToEnd(in));
  }

  static Stream<Arguments> values() {
    return Stream.of(
        Arguments.of("plain", true),
        Arguments.of("tab\tinside", true),
        Arguments.of("", true),
        Arguments.of("obs-text \u00e9", true),
        Arguments.of("split\r\nSet-Cookie: x", false),
        Arguments.of("lf\n", false),
        Arguments.of("nul\0", false),
        Arguments.of("del\u007f", false),
        Arguments.of("wide \u20ac", false));
  }

  @ParameterizedTest
  @MethodSource("values")
  void headerValuesCannotSplitAMessage(String value, boolean valid) {
    assertEquals(valid, HeaderValidation.isValidValue(value));
  }

  @ParameterizedTest
  @MethodSource("names")
  void headerNamesAreTokens(String name, boolean valid) {
    assertEquals(valid, HeaderValidation.isValidName(name));
  }

  static Stream<Arguments> names() {
    return Stream.of(
        Arguments.of("X-Custom_1", true),
        Arguments.of("a!#$%&'*+-.^_`|~", true),
        Arguments.of("", false),
        Arguments.of("with space", false),
        Arguments.of("colon:", false),
        Arguments.of("new\nline", false));
  }
}
