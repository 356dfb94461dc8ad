package dev.drawbridge.proxy.http;

import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.proxy.config.RouteSettings;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps the credential the proxy itself consumed away from the backend: on a route that requires
 * a login, the client's {@code Authorization} header proved who the client is to the proxy's
 * realm, and the backend has no business seeing that password unless the route says so.
 */
public final class CredentialHeaders {

  private CredentialHeaders() {}

  /** {@code headers} without {@code Authorization} when {@code route} logged the client in and does not forward it. */
  public static List<HeaderField> forward(List<HeaderField> headers, RouteSettings route) {
    if (route == null || route.requireRoles().isEmpty() || route.forwardCredentials()) {
      return headers;
    }
    List<HeaderField> kept = new ArrayList<>(headers.size());
    for (HeaderField field : headers) {
      if (!field.name().equalsIgnoreCase("Authorization")) {
        kept.add(field);
      }
    }
    return kept;
  }
}
