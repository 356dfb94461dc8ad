package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Map;
import javax.net.ssl.SSLHandshakeException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.HttpHostConnectException;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.apache.hc.core5.http.message.BasicClassicHttpRequest;
import org.apache.hc.core5.http.message.BasicClassicHttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * When a failed backend call is sent again, as a table: method, body, whether the connection came
 * from the pool, the failure and the attempt. The wire behaviour is in {@link StaleConnectionRetryTest}.
 */
class StaleBackendConnectionRetryTest {

  private static final Map<String, IOException> FAILURES = Map.ofEntries(
      Map.entry("no-response", new NoHttpResponseException("The target server failed to respond")),
      Map.entry("reset", new SocketException("Connection reset")),
      Map.entry("broken-pipe", new SocketException("Broken pipe")),
      Map.entry("refused", new ConnectException("Connection refused")),
      Map.entry("host-refused", new HttpHostConnectException("Connection refused")),
      Map.entry("no-route", new NoRouteToHostException("No route to host")),
      Map.entry("connect-timeout", new ConnectTimeoutException("Connect timed out")),
      Map.entry("read-timeout", new SocketTimeoutException("Read timed out")),
      Map.entry("interrupted", new InterruptedIOException()),
      Map.entry("tls", new SSLHandshakeException("PKIX path building failed")),
      Map.entry("unknown-host", new UnknownHostException("backend.invalid")),
      Map.entry("closed", new ConnectionClosedException()));

  @ParameterizedTest(name = "{0} body={1} {2} {3} attempt {4} -> {5}")
  @CsvSource({
    // Idempotent methods, body absent or in memory, on a reused connection the backend closed.
    "GET,     none,     reused, no-response,     1, true",
    "GET,     none,     reused, reset,           1, true",
    "GET,     none,     reused, broken-pipe,     1, true",
    "HEAD,    none,     reused, no-response,     1, true",
    "OPTIONS, none,     reused, no-response,     1, true",
    "TRACE,   none,     reused, no-response,     1, true",
    "PUT,     inline,   reused, no-response,     1, true",
    "PUT,     inline,   reused, broken-pipe,     1, true",
    "DELETE,  none,     reused, no-response,     1, true",
    "DELETE,  inline,   reused, reset,           1, true",
    // Once per exchange.
    "GET,     none,     reused, no-response,     2, false",
    // Never a method that is not idempotent, nor an unknown one (method names are case-sensitive).
    "POST,    none,     reused, no-response,     1, false",
    "POST,    inline,   reused, no-response,     1, false",
    "PATCH,   inline,   reused, no-response,     1, false",
    "CONNECT, none,     reused, no-response,     1, false",
    "PROPFIND, none,    reused, no-response,     1, false",
    "get,     none,     reused, no-response,     1, false",
    // Never a streamed body.
    "PUT,     streamed, reused, no-response,     1, false",
    "DELETE,  streamed, reused, reset,           1, false",
    // Never a new connection: its failure is the backend's real state.
    "GET,     none,     new,    no-response,     1, false",
    "GET,     none,     new,    reset,           1, false",
    "GET,     none,     new,    refused,         1, false",
    "GET,     none,     new,    host-refused,    1, false",
    "GET,     none,     new,    connect-timeout, 1, false",
    "GET,     none,     new,    tls,             1, false",
    "GET,     none,     new,    unknown-host,    1, false",
    // Never a timeout, a TLS failure or a connect failure, whatever the connection.
    "GET,     none,     reused, read-timeout,    1, false",
    "GET,     none,     reused, interrupted,     1, false",
    "GET,     none,     reused, tls,             1, false",
    "GET,     none,     reused, refused,         1, false",
    "GET,     none,     reused, host-refused,    1, false",
    "GET,     none,     reused, no-route,        1, false",
    "GET,     none,     reused, unknown-host,    1, false",
    "GET,     none,     reused, closed,          1, false",
  })
  void retriesOnlyAnIdempotentRequestInMemoryOnceOnAReusedConnection(
      String method, String body, String connection, String failure, int attempt, boolean retried) {
    BasicClassicHttpRequest request = new BasicClassicHttpRequest(method, "/x");
    if (body.equals("inline")) {
      request.setEntity(new ByteArrayEntity(new byte[] {1, 2, 3}, null));
    } else if (body.equals("streamed")) {
      request.setEntity(new InputStreamEntity(new ByteArrayInputStream(new byte[] {1, 2, 3}), 3, null));
    }
    HttpClientContext context = HttpClientContext.create();
    context.setAttribute(StaleBackendConnectionRetry.REUSED, connection.equals("reused"));
    assertEquals(retried,
        new StaleBackendConnectionRetry().retryRequest(request, FAILURES.get(failure), attempt, context));
  }

  @Test
  void aCallWhoseConnectionWasNeverTakenIsNotRetried() {
    assertFalse(new StaleBackendConnectionRetry().retryRequest(
        new BasicClassicHttpRequest("GET", "/x"), FAILURES.get("no-response"), 1, HttpClientContext.create()));
  }

  @ParameterizedTest
  @CsvSource({"503", "429", "502", "500", "408"})
  void noStatusIsEverRetried(int status) {
    assertFalse(new StaleBackendConnectionRetry().retryRequest(
        new BasicClassicHttpResponse(status), 1, HttpClientContext.create()));
  }
}
