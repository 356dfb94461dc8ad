package dev.drawbridge.proxy.http;

import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.HeaderValidation;
import dev.drawbridge.protocol.HopByHop;
import dev.drawbridge.protocol.ResponseHead;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Checks a response head that came back from an agent before any of it reaches the client. The
 * agent is trusted to authenticate, not to be well formed: a head that could split, smuggle or
 * confuse the client's response is refused whole (the client gets 502), never half applied.
 */
public final class ResponseHeadRules {

  /** Most header fields a response may carry. */
  public static final int MAX_HEADERS = 256;

  /**
   * Most bytes a response head may take as the client receives it: the 8 KiB that Tomcat ({@code
   * maxHttpResponseHeaderSize}) and Jetty ({@code responseHeaderSize}) allow by default. A larger
   * head fails inside the container once the response starts, when nothing sensible can be sent
   * any more, so it is refused here, before anything reaches the client.
   */
  public static final int MAX_HEAD_BYTES = 8192;

  /**
   * Room kept for what is written besides the backend's fields: the status line, {@code Date},
   * the framing header, {@code Connection} or {@code Keep-Alive}, the exchange id and the blank
   * line, which together take under 250 bytes.
   */
  static final int ADDED_BYTES = 320;

  /** A Content-Length the proxy accepts: digits only, small enough for a long. */
  private static final Pattern CONTENT_LENGTH = Pattern.compile("[0-9]{1,18}");

  private ResponseHeadRules() {}

  /** What to send the client, or the reason the head is refused. */
  public record Verdict(int status, List<HeaderField> headers, long contentLength, String error) {

    /** True when the head may be applied. */
    public boolean accepted() {
      return error == null;
    }

    static Verdict refuse(String error) {
      return new Verdict(0, List.of(), -1, error);
    }
  }

  /**
   * Judges the backend's answer to a protocol-switch handshake. A {@code 101} must name in its
   * {@code Upgrade} header only protocols the client offered (RFC 9110 section 7.8), and that
   * header is kept, since the client needs it; the caller adds {@code Connection: Upgrade}. Any
   * other status is judged as an ordinary response and relayed as one.
   *
   * @param offered the client's {@code Upgrade} value
   */
  public static Verdict judgeUpgrade(ResponseHead head, String viaEntry, String offered) {
    if (head.status() != 101) {
      return judge(head, viaEntry);
    }
    List<HeaderField> fields = head.headers() == null ? List.of() : head.headers();
    if (fields.size() > MAX_HEADERS) {
      return Verdict.refuse("more than " + MAX_HEADERS + " header fields");
    }
    String upgrade = null;
    for (HeaderField field : fields) {
      if (field == null || !HeaderValidation.isValidName(field.name())) {
        return Verdict.refuse("an invalid header name");
      }
      if (!HeaderValidation.isValidValue(field.value())) {
        return Verdict.refuse("an invalid value in header " + field.name());
      }
      if (field.name().equalsIgnoreCase("upgrade")) {
        upgrade = upgrade == null ? field.value() : upgrade + ", " + field.value();
      }
    }
    if (upgrade == null || upgrade.isBlank()) {
      return Verdict.refuse("status 101 without an Upgrade header");
    }
    java.util.Set<String> offeredTokens = UpgradeTokens.parse(offered);
    for (String token : UpgradeTokens.parse(upgrade)) {
      if (!offeredTokens.contains(token)) {
        return Verdict.refuse("a switch to a protocol the client did not offer");
      }
    }
    List<HeaderField> kept = new ArrayList<>(fields.size() + 2);
    for (HeaderField field : HopByHop.endToEnd(fields)) {
      if (!field.name().equalsIgnoreCase("content-length")) {
        kept.add(field);
      }
    }
    kept.add(new HeaderField("Upgrade", upgrade.trim()));
    kept.add(new HeaderField("Via", viaEntry));
    String tooLarge = tooLarge(kept);
    if (tooLarge != null) {
      return Verdict.refuse(tooLarge);
    }
    return new Verdict(101, kept, -1, null);
  }

  /**
   * Judges a backend response head (one without a failure).
   *
   * @param viaEntry this proxy's {@code Via} entry, appended to the response
   */
  public static Verdict judge(ResponseHead head, String viaEntry) {
    int status = head.status();
    if (status < 200 || status > 599) {
      return Verdict.refuse("status " + status + " is not a final HTTP status code");
    }
    List<HeaderField> fields = head.headers() == null ? List.of() : head.headers();
    if (fields.size() > MAX_HEADERS) {
      return Verdict.refuse("more than " + MAX_HEADERS + " header fields");
    }
    boolean hasTransferEncoding = false;
    String contentLength = null;
    for (HeaderField field : fields) {
      if (field == null || !HeaderValidation.isValidName(field.name())) {
        return Verdict.refuse("an invalid header name");
      }
      if (!HeaderValidation.isValidValue(field.value())) {
        return Verdict.refuse("an invalid value in header " + field.name());
      }
      if (field.name().equalsIgnoreCase("transfer-encoding")) {
        hasTransferEncoding = true;
      }
      if (field.name().equalsIgnoreCase("content-length")) {
        String value = field.value().trim();
        if (contentLength != null && !contentLength.equals(value)) {
          return Verdict.refuse("conflicting Content-Length headers");
        }
        contentLength = value;
      }
    }
    long length = -1;
    if (contentLength != null) {
      if (hasTransferEncoding) {
        // RFC 9112 section 6.3: both framings at once is a classic smuggling vector.
        return Verdict.refuse("both Content-Length and Transfer-Encoding");
      }
      if (!CONTENT_LENGTH.matcher(contentLength).matches()) {
        return Verdict.refuse("an invalid Content-Length");
      }
      length = Long.parseLong(contentLength);
    }
    List<HeaderField> kept = new ArrayList<>(fields.size() + 1);
    for (HeaderField field : HopByHop.endToEnd(fields)) {
      if (!field.name().equalsIgnoreCase("content-length")) {
        kept.add(field);
      }
    }
    kept.add(new HeaderField("Via", viaEntry));
    String tooLarge = tooLarge(kept);
    if (tooLarge != null) {
      return Verdict.refuse(tooLarge);
    }
    boolean bodiless = status == 204 || status == 304;
    return new Verdict(status, kept, bodiless ? -1 : length, null);
  }

  /** Why {@code fields} make a head too large for the client's container, or null when they fit. */
  private static String tooLarge(List<HeaderField> fields) {
    long bytes = ADDED_BYTES;
    for (HeaderField field : fields) {
      // "name: value" and CRLF; header values are written one byte per character.
      bytes += field.name().length() + field.value().length() + 4;
    }
    return bytes <= MAX_HEAD_BYTES
        ? null
        : "headers of about " + bytes + " bytes, more than the " + MAX_HEAD_BYTES + " a response head may take";
  }
}
