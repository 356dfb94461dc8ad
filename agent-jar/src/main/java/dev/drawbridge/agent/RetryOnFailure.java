package dev.drawbridge.agent;

import java.io.IOException;
import org.apache.hc.client5.http.HttpRequestRetryStrategy;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.util.TimeValue;

/**
 * A retry that the agent's legs share: decided on a failed call only, at once, never on a status
 * (a 429 or 503 is an answer, and goes where it was meant to). Subclasses say which failures.
 */
abstract class RetryOnFailure implements HttpRequestRetryStrategy {

  @Override
  public abstract boolean retryRequest(HttpRequest request, IOException failure, int execCount, HttpContext context);

  @Override
  public final boolean retryRequest(HttpResponse response, int execCount, HttpContext context) {
    return false;
  }

  @Override
  public final TimeValue getRetryInterval(HttpRequest request, IOException failure, int execCount, HttpContext context) {
    return TimeValue.ZERO_MILLISECONDS;
  }

  @Override
  public final TimeValue getRetryInterval(HttpResponse response, int execCount, HttpContext context) {
    return TimeValue.ZERO_MILLISECONDS;
  }
}
