package dev.drawbridge.proxy.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;

/**
 * Agent bearer tokens. The proxy keeps only SHA-256 digests: tokens are long random strings, so a
 * fast digest is enough to make a leaked configuration useless, and digests are compared in
 * constant time so response timing reveals nothing about a stored digest.
 */
public final class AgentTokens {

  private static final SecureRandom RANDOM = new SecureRandom();

  private AgentTokens() {}

  /** A new random token: 32 random bytes, base64url without padding (43 characters). */
  public static String generate() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** SHA-256 digest of the token's UTF-8 bytes. */
  public static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /**
   * True when {@code token} matches one of {@code digests}. Every digest is compared, whatever
   * matches first, so the time taken does not depend on which one matched.
   */
  public static boolean matches(String token, List<byte[]> digests) {
    return matchesDigest(sha256(token), digests);
  }

  /** Like {@link #matches}, for a token whose digest the caller already computed. */
  public static boolean matchesDigest(byte[] presented, List<byte[]> digests) {
    boolean match = false;
    for (byte[] digest : digests) {
      match |= MessageDigest.isEqual(presented, digest);
    }
    return match;
  }

  /**
   * The token in an {@code Authorization: Bearer} header value, or null when the value is absent or
   * not a bearer credential.
   */
  public static String bearer(String authorization) {
    if (authorization == null || authorization.length() <= 7) {
      return null;
    }
    if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String token = authorization.substring(7).trim();
    return token.isEmpty() ? null : token;
  }
}
