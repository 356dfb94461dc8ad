package dev.drawbridge.agent;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * {@code new-token}: a fresh agent token and the digest the proxy's configuration lists for it
 * ({@code agentTokenSha256}), so that setting up an agent needs no shell tools to cut output.
 */
final class NewToken {

  /** 256 random bits: far beyond guessing, and short enough to paste. */
  private static final int TOKEN_BYTES = 32;

  private NewToken() {}

  /** URL-safe base64 without padding, so the token needs no quoting in a shell or a header. */
  static String generate() {
    byte[] random = new byte[TOKEN_BYTES];
    new SecureRandom().nextBytes(random);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
  }

  /** Lowercase hex SHA-256 of the token's UTF-8 bytes, as the proxy compares it. */
  static String sha256Hex(String token) {
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(sha256.digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** The two lines {@code new-token} prints: the token for the agent, the digest for the proxy. */
  static String text() {
    String token = generate();
    return "token: " + token + "\nagentTokenSha256: " + sha256Hex(token) + "\n";
  }
}
