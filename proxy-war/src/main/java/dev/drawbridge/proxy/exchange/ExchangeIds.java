package dev.drawbridge.proxy.exchange;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/** Unguessable exchange ids: 128 random bits, base64url, so holding one is proof of delivery. */
public final class ExchangeIds {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Pattern SHAPE = Pattern.compile("[A-Za-z0-9_-]{22}");

  private ExchangeIds() {}

  public static String next() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** True when {@code id} has the shape of an id this class makes. */
  public static boolean isWellFormed(String id) {
    return id != null && SHAPE.matcher(id).matches();
  }
}
