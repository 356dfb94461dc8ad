package dev.drawbridge.agent;

import dev.drawbridge.protocol.HeaderField;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hc.client5.http.impl.DefaultSchemePortResolver;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.net.URIAuthority;

/**
 * Turns a {@code Location} that names the service's own address into the public one, as nginx's
 * {@code proxy_redirect default} does, since a client outside cannot follow the first. A service
 * names itself in two ways:
 *
 * <ul>
 *   <li>by the target's own scheme, host and port: it answers to its own name, or the agent sends
 *       the target's {@code Host} ({@code --host-header rewrite});
 *   <li>by the public host with the service's port: nginx, for one, builds the redirect that adds
 *       a directory's slash from {@code Host} and the port it listens on.
 * </ul>
 *
 * Either becomes the public scheme and host the proxy forwarded ({@code X-Forwarded-Proto}, {@code
 * X-Forwarded-Host}), the public path prefix ({@code X-Forwarded-Prefix}) and the path below the
 * target's base path, with query and fragment as they were. Any other {@code Location}, relative
 * ones included, passes untouched.
 */
final class Redirects {

  private Redirects() {}

  /**
   * {@code responseHeaders} with a {@code Location} naming the service made public; the same list
   * when there is nothing to change.
   *
   * @param requestHeaders the client's request as the proxy forwarded it
   * @param target the service's scheme, host and port
   * @param basePath the target URL's path ("" or "/app")
   */
  static List<HeaderField> toPublic(
      List<HeaderField> responseHeaders, List<HeaderField> requestHeaders, HttpHost target, String basePath) {
    for (int i = 0; i < responseHeaders.size(); i++) {
      HeaderField field = responseHeaders.get(i);
      if (!field.name().equalsIgnoreCase("location")) {
        continue;
      }
      String rewritten = publicLocation(field.value(), requestHeaders, target, basePath);
      if (rewritten == null) {
        return responseHeaders;
      }
      List<HeaderField> result = new ArrayList<>(responseHeaders);
      result.set(i, new HeaderField(field.name(), rewritten));
      return result;
    }
    return responseHeaders;
  }

  /** The public form of {@code location}, or null when it does not name the service. */
  static String publicLocation(String location, List<HeaderField> requestHeaders, HttpHost target, String basePath) {
    URI uri;
    try {
      uri = new URI(location.trim());
    } catch (URISyntaxException e) {
      return null;
    }
    String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!"http".equals(scheme) && !"https".equals(scheme) || uri.getHost() == null || uri.getRawUserInfo() != null) {
      return null;
    }
    String publicHost = first(requestHeaders, "x-forwarded-host");
    URIAuthority publicAuthority = authority(publicHost);
    int targetPort = port(target);
    boolean namesTarget = scheme.equals(target.getSchemeName().toLowerCase(Locale.ROOT))
        && sameHost(uri.getHost(), target.getHostName())
        && port(new HttpHost(scheme, uri.getHost(), uri.getPort())) == targetPort;
    boolean publicHostWithServicePort = publicAuthority != null
        && uri.getPort() == targetPort
        && sameHost(uri.getHost(), publicAuthority.getHostName())
        && publicAuthority.getPort() != targetPort;
    if (!namesTarget && !publicHostWithServicePort) {
      return null;
    }
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String base = basePath.endsWith("/") ? basePath.substring(0, basePath.length() - 1) : basePath;
    if (!base.isEmpty()) {
      if (!path.equals(base) && !path.startsWith(base + "/")) {
        return null;
      }
      path = path.length() == base.length() ? "/" : path.substring(base.length());
    }
    String prefix = first(requestHeaders, "x-forwarded-prefix");
    StringBuilder result = new StringBuilder();
    String publicScheme = first(requestHeaders, "x-forwarded-proto");
    if (publicHost != null && publicScheme != null) {
      result.append(publicScheme.toLowerCase(Locale.ROOT)).append("://").append(publicHost);
    }
    if (prefix != null && prefix.startsWith("/")) {
      result.append(prefix);
    }
    result.append(path);
    if (uri.getRawQuery() != null) {
      result.append('?').append(uri.getRawQuery());
    }
    if (uri.getRawFragment() != null) {
      result.append('#').append(uri.getRawFragment());
    }
    return result.toString();
  }

  /** The first element of a header's first value (a trusted proxy's list starts with the client's). */
  private static String first(List<HeaderField> headers, String name) {
    for (HeaderField field : headers) {
      if (field.name().equalsIgnoreCase(name)) {
        String value = field.value();
        int comma = value.indexOf(',');
        String element = (comma < 0 ? value : value.substring(0, comma)).trim();
        return element.isEmpty() ? null : element;
      }
    }
    return null;
  }

  /** A {@code Host} value's host and port; null when there is none or it does not parse. */
  private static URIAuthority authority(String host) {
    if (host == null) {
      return null;
    }
    try {
      return URIAuthority.create(host);
    } catch (URISyntaxException e) {
      return null;
    }
  }

  private static boolean sameHost(String a, String b) {
    return unbracketed(a).equalsIgnoreCase(unbracketed(b));
  }

  private static String unbracketed(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /** The host's port, or its scheme's default when it names none. */
  private static int port(HttpHost host) {
    return DefaultSchemePortResolver.INSTANCE.resolve(host);
  }
}
