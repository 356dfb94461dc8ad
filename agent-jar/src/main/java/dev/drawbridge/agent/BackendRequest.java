package dev.drawbridge.agent;

import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.HeaderValidation;
import dev.drawbridge.protocol.HopByHop;
import dev.drawbridge.protocol.RequestHead;
import java.util.Base64;
import org.apache.hc.core5.concurrent.Cancellable;
import org.apache.hc.core5.concurrent.CancellableDependency;
import org.apache.hc.core5.concurrent.ComplexCancellable;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.message.BasicClassicHttpRequest;

/**
 * The request the agent sends to the backend for one exchange. The request target is kept as the
 * raw string the client sent: parsing it into a URI would decode or re-encode it (turning
 * {@code %2F} into {@code /}, rejecting {@code |}), which changes what the backend routes on.
 * Cancellable, so that a client that goes away aborts the backend call.
 */
final class BackendRequest extends BasicClassicHttpRequest implements CancellableDependency {

  private static final long serialVersionUID = 1L;

  private final transient ComplexCancellable cancellable = new ComplexCancellable();

  BackendRequest(String method, HttpHost target, String path) {
    super(method, target, path);
  }

  /**
   * Builds the backend request for {@code clientRequest} without its body.
   *
   * @param target the backend's scheme, host and port
   * @param basePath path prefix of the target URL ("" or "/app", no trailing slash)
   * @param preserveHost send the client's Host instead of the target's authority
   */
  static BackendRequest of(
      RequestHead clientRequest, HttpHost target, String basePath, boolean preserveHost) {
    BackendRequest backendRequest =
        new BackendRequest(clientRequest.method(), target, path(basePath, clientRequest.target()));
    for (HeaderField field : HopByHop.endToEnd(clientRequest.headers())) {
      String name = field.name();
      if (name.equalsIgnoreCase(HttpHeaders.HOST) && !preserveHost
          // HttpClient computes these from the entity and the connection; a copy would conflict.
          || name.equalsIgnoreCase(HttpHeaders.CONTENT_LENGTH)
          || name.equalsIgnoreCase(HttpHeaders.EXPECT)
          // Never re-serialise a header that could split the message (RFC 9110 section 5.5).
          || !HeaderValidation.isValidName(name)
          || !HeaderValidation.isValidValue(field.value())) {
        continue;
      }
      backendRequest.addHeader(name, field.value());
    }
    return backendRequest;
  }

  /** Joins the target's path prefix and the client's raw target without touching either. */
  static String path(String basePath, String clientTarget) {
    if (clientTarget.equals("*")) {
      // OPTIONS * addresses the server itself; with a prefix the closest meaning is the prefix.
      return basePath.isEmpty() ? "*" : basePath;
    }
    if (!clientTarget.startsWith("/")) {
      clientTarget = "/" + clientTarget;
    }
    return basePath + clientTarget;
  }

  /**
   * The entity for an inline body, or an empty one when the client declared {@code
   * Content-Length: 0} (so the backend still sees the length), or null when there is no body.
   */
  static HttpEntity inlineEntity(RequestHead clientRequest) {
    if (clientRequest.inlineBody() != null) {
      // No content type: the client's Content-Type header is copied as is.
      return new ByteArrayEntity(Base64.getDecoder().decode(clientRequest.inlineBody()), null);
    }
    boolean declaredLength = clientRequest.headers().stream()
        .anyMatch(field -> field.name().equalsIgnoreCase(HttpHeaders.CONTENT_LENGTH));
    return declaredLength ? new ByteArrayEntity(new byte[0], null) : null;
  }

  @Override
  public boolean isCancelled() {
    return cancellable.isCancelled();
  }

  @Override
  public void setDependency(Cancellable dependency) {
    cancellable.setDependency(dependency);
  }

  @Override
  public boolean cancel() {
    return cancellable.cancel();
  }
}
