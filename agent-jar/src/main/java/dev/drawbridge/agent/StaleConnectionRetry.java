package dev.drawbridge.agent;

import java.io.IOException;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.protocol.HttpContext;

/**
 * Sends a call to the proxy a second time, at once, when its connection closed before a single
 * byte of the answer came back. That is how a pooled keep-alive connection the server closed
 * meanwhile shows itself (the proxy's container may close one right after an answer, and a NAT or
 * load balancer may drop an idle one): the call went out on a connection nobody read any more. A
 * browser or nginx retries such a request too. Any other failure is left to the caller, which
 * already knows how to recover from it.
 *
 * <p>HttpClient asks only for calls whose body can be sent again, which keeps every streamed
 * response upload out. The calls it leaves are safe to repeat: a poll and a request-body fetch
 * carry nothing, and a response batch names each exchange it answers, so the proxy refuses an
 * entry whose exchange was already answered instead of delivering it twice. Once per call: a
 * second silent close is a real failure, not a stale connection.
 */
final class StaleConnectionRetry extends RetryOnFailure {

  @Override
  public boolean retryRequest(HttpRequest request, IOException failure, int execCount, HttpContext context) {
    return execCount == 1 && failure instanceof NoHttpResponseException;
  }
}
