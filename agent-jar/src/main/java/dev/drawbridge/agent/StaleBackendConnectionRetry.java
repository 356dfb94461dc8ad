package dev.drawbridge.agent;

import dev.drawbridge.protocol.Methods;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.classic.ExecChainHandler;
import org.apache.hc.client5.http.classic.ExecRuntime;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.protocol.HttpContext;

/**
 * Sends a client's request to the backend a second time, at once, on a new connection, when the
 * keep-alive connection it went out on came from the pool and failed before the answer's head came
 * back: the backend had closed it meanwhile (Python's http.server after its 0.5 s timeout, a
 * server that closes right after an answer without saying {@code Connection: close}). curl,
 * browsers and nginx resend such a request too. The same idea as {@link StaleConnectionRetry} on
 * the proxy leg, narrower because the request is the client's:
 *
 * <ul>
 *   <li>only an idempotent method (RFC 9110 section 9.2.2), so the backend may see it twice;
 *   <li>only a body held in memory: HttpClient never asks for one that cannot be sent again, and a
 *       streamed body cannot;
 *   <li>only on a reused connection that ended without a byte of answer, or was reset or broke
 *       before the answer's head; a new connection that fails (refused, timed out, TLS, unknown
 *       host) shows the backend as it is;
 *   <li>once per exchange, and never on a status: a 503 or 429 goes to the client as it is.
 * </ul>
 *
 * <p>A retry that fails too is reported like any failed backend call ({@link BackendFailures}).
 */
final class StaleBackendConnectionRetry extends RetryOnFailure {

  /** Context attribute: {@link Boolean#TRUE} when the current attempt's connection came from the pool. */
  static final String REUSED = "drawbridge.backend.connection-reused";

  /**
   * Sets this retry on {@code backendClient}, with the chain element it needs: {@code connections}
   * is the most the pool holds.
   */
  static HttpClientBuilder install(HttpClientBuilder backendClient, int connections) {
    return backendClient
        .setRetryStrategy(new StaleBackendConnectionRetry())
        .addExecInterceptorBefore(ChainElement.CONNECT.name(), "drawbridge-connection-reuse",
            new ConnectionReuse(connections));
  }

  @Override
  public boolean retryRequest(HttpRequest request, IOException failure, int execCount, HttpContext context) {
    return execCount == 1
        && Methods.isIdempotent(request.getMethod())
        && repeatable(request)
        && Boolean.TRUE.equals(context.getAttribute(REUSED))
        && closedUnderneath(failure);
  }

  private static boolean repeatable(HttpRequest request) {
    HttpEntity body = request instanceof ClassicHttpRequest ? ((ClassicHttpRequest) request).getEntity() : null;
    return body == null || body.isRepeatable();
  }

  /**
   * No answer at all, or a reset or broken pipe: how a connection the backend closed shows itself.
   * A connect failure is a {@link SocketException} too, but never happens on a reused connection.
   */
  private static boolean closedUnderneath(IOException failure) {
    return failure instanceof NoHttpResponseException
        || failure instanceof SocketException
            && !(failure instanceof ConnectException)
            && !(failure instanceof NoRouteToHostException);
  }

  /**
   * Goes before HttpClient's connect step and takes each attempt's connection from the pool itself,
   * which it otherwise does: so it can note whether the connection is a reused one, and give a
   * retry a new one. The pool's other idle connections are as old as the one that failed, and the
   * backend most likely closed them too; the retry discards them instead.
   */
  private static final class ConnectionReuse implements ExecChainHandler {

    private final int connections;

    ConnectionReuse(int connections) {
      this.connections = connections;
    }

    @Override
    public ClassicHttpResponse execute(ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain)
        throws IOException, HttpException {
      ExecRuntime runtime = scope.execRuntime;
      HttpClientContext context = scope.clientContext;
      // Set by an earlier attempt: this one is the retry.
      boolean retry = context.getAttribute(REUSED) != null;
      if (!runtime.isEndpointAcquired()) {
        runtime.acquireEndpoint(scope.exchangeId, scope.route, context.getUserToken(), context);
        // Bounded: the pool holds no more idle connections than this, unless others return meanwhile.
        for (int discarded = 0; retry && runtime.isEndpointConnected() && discarded < connections; discarded++) {
          runtime.discardEndpoint();
          runtime.acquireEndpoint(scope.exchangeId, scope.route, context.getUserToken(), context);
        }
      }
      context.setAttribute(REUSED, runtime.isEndpointConnected());
      return chain.proceed(request, scope);
    }
  }
}
