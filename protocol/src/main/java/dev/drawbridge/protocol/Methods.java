package dev.drawbridge.protocol;

import java.util.Set;

/** Request method rules for both sides, which decide by them whether a request may be sent twice. */
public final class Methods {

  /** Idempotent methods, RFC 9110 section 9.2.2; method names are case-sensitive (section 9.1). */
  private static final Set<String> IDEMPOTENT = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");

  private Methods() {}

  /** True when repeating a request of {@code method} has the effect of sending it once. */
  public static boolean isIdempotent(String method) {
    return IDEMPOTENT.contains(method);
  }
}
