package dev.drawbridge.agent;

import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import javax.net.ssl.SSLException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.core5.http.NoHttpResponseException;

/** Short, human descriptions of connection failures for log lines ("connection refused"). */
final class Reasons {

  private Reasons() {}

  static String describe(Throwable failure) {
    if (failure instanceof ProxyStatusException) {
      ProxyStatusException status = (ProxyStatusException) failure;
      String body = status.getMessage();
      if (!status.fromDrawbridge()) {
        return "the server answered HTTP " + status.status() + " but is not a Drawbridge proxy; is the proxy deployed at this URL?";
      }
      return "HTTP " + status.status() + (body == null || body.isEmpty() ? "" : " (" + body + ")");
    }
    if (failure instanceof UnknownHostException) {
      return "unknown host " + failure.getMessage();
    }
    if (failure instanceof ConnectTimeoutException) {
      return "connect timed out";
    }
    if (failure instanceof NoRouteToHostException) {
      return "no route to host";
    }
    if (failure instanceof ConnectException) {
      return "connection refused";
    }
    if (failure instanceof SocketTimeoutException) {
      return "no answer in time";
    }
    if (failure instanceof NoHttpResponseException) {
      return "connection closed without an answer";
    }
    if (failure instanceof SSLException) {
      return "TLS failed: " + failure.getMessage();
    }
    if (failure instanceof InterruptedIOException) {
      return "interrupted";
    }
    String message = failure.getMessage();
    return failure.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
