package dev.drawbridge.protocol;

/** Syntax checks for header fields that arrive from a peer and are about to be re-serialised. */
public final class HeaderValidation {

  private HeaderValidation() {}

  /** True when {@code name} is an RFC 9110 token (section 5.6.2). */
  public static boolean isValidName(String name) {
    if (name == null || name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      if (!isTokenChar(name.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /**
   * True when {@code value} holds no CR, LF, NUL or other control character except horizontal tab
   * (RFC 9110 section 5.5), so writing it cannot split or smuggle a message.
   */
  public static boolean isValidValue(String value) {
    if (value == null) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7F || c > 0xFF) {
        return false;
      }
    }
    return true;
  }

  private static boolean isTokenChar(char c) {
    if (c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
      return true;
    }
    return "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}
