package dev.drawbridge.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReservedPathTest {

  private static final String PREFIX = "/_drawbridge";

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource({
    // As written.
    "/_drawbridge, true",
    "/_drawbridge/, true",
    "/_drawbridge/anything, true",
    "/_drawbridge/agent/v2/poll?backend=x, true",
    "/_drawbridge?x=1, true",
    // Every encoded spelling of a character of the prefix, either case of hex.
    "/%5Fdrawbridge/x, true",
    "/%5fdrawbridge/x, true",
    "/_drawbridg%65/x, true",
    "/%5F%64%72%61%77%62%72%69%64%67%65/x, true",
    "/_drawbridge%2Fx, true",
    "/_drawbridge%2fx, true",
    // Encoded twice or more, for servers that decode again.
    "/%255Fdrawbridge/x, true",
    "/%25255Fdrawbridge/x, true",
    // Spellings a server normalises away.
    "//_drawbridge/x, true",
    "/./_drawbridge/x, true",
    "/a/../_drawbridge/x, true",
    "/a/%2e%2e/_drawbridge/x, true",
    "/_drawbridge;v=1/x, true",
    "/_drawbridge%3Bv=1/x, true",
    "\\_drawbridge/x, true",
    "/%5C_drawbridge/x, true",
    // Not the prefix: forwarded.
    "/, false",
    "/hello, false",
    "/_drawbridgex, false",
    "/_drawbridge-docs/x, false",
    "/__drawbridge/x, false",
    "/%5F_drawbridge/x, false",
    "/api/_drawbridge/x, false",
    "/_DRAWBRIDGE/x, false",
    "/search?q=/_drawbridge/x, false",
    "/%zz/_drawbridgex, false",
    "/100%, false",
  })
  void everySpellingOfThePrefixIsReserved(String target, boolean reserved) {
    assertEquals(reserved, ReservedPath.covers(target, PREFIX));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "/a//b/./c, /a/b/c",
    "/a/b/../c, /a/c",
    "/../../a, /a",
    "/a;x=1/b;y, /a/b",
    "'', /",
  })
  void normalisesAsServersDo(String path, String normal) {
    assertEquals(normal, ReservedPath.normalise(path));
  }
}
