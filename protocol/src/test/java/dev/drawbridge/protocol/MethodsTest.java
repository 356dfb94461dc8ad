package dev.drawbridge.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MethodsTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "GET, true", "HEAD, true", "OPTIONS, true", "TRACE, true", "PUT, true", "DELETE, true",
    "POST, false", "PATCH, false", "CONNECT, false", "QUERY, false", "PROPFIND, false",
    // Method names are case-sensitive: these are unknown methods.
    "get, false", "Put, false",
  })
  void idempotentMethodsAreThoseOfRfc9110(String method, boolean idempotent) {
    assertEquals(idempotent, Methods.isIdempotent(method));
  }
}
