package dev.drawbridge.proxy.web.admin;

import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * Guards the admin calls that change something. The container's BASIC login is replayed by the
 * browser on any request to the proxy, so such a call must prove it was not sent by another site's
 * page: it carries {@value #ACTION_HEADER} naming the action, which no page elsewhere can send
 * without a CORS preflight the proxy never grants, and no browser hint that it came from elsewhere.
 */
final class AdminCalls {

  /** Header every state-changing admin call carries, naming its action. */
  static final String ACTION_HEADER = "Drawbridge-Admin-Action";

  private AdminCalls() {}

  /** Why this call may come from another site's page, or null when it is the operator's own. */
  static String crossSiteRefusal(HttpServletRequest request, String action) {
    String fetchSite = request.getHeader("Sec-Fetch-Site");
    if (fetchSite != null && !fetchSite.equals("same-origin") && !fetchSite.equals("none")) {
      return "Admin calls from another site's page are refused.";
    }
    String origin = request.getHeader("Origin");
    if (origin != null && !sameOrigin(origin, request)) {
      return "Admin calls from another site's page are refused.";
    }
    if (!action.equalsIgnoreCase(String.valueOf(request.getHeader(ACTION_HEADER)).trim())) {
      return "Send the header " + ACTION_HEADER + ": " + action + " with this call, so that no other site's page can"
          + " make it.";
    }
    return null;
  }

  private static boolean sameOrigin(String origin, HttpServletRequest request) {
    try {
      URI uri = new URI(origin);
      int port = uri.getPort() != -1 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
      return request.getScheme().equalsIgnoreCase(uri.getScheme())
          && request.getServerName().toLowerCase(Locale.ROOT).equals(String.valueOf(uri.getHost()).toLowerCase(Locale.ROOT))
          && request.getServerPort() == port;
    } catch (URISyntaxException e) {
      return false;
    }
  }
}
