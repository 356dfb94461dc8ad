package dev.drawbridge.agent;

import dev.drawbridge.protocol.Failure;
import dev.drawbridge.protocol.ResponseHead;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import javax.net.ssl.SSLException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.HttpHostConnectException;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.MessageConstraintException;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.ProtocolException;

/** Maps a failed backend call to the head the client's status and error sentence come from. */
final class BackendFailures {

  private BackendFailures() {}

  /**
   * @param target the backend base URL, named in the sentence so operators know which one
   * @param config the timeouts that were exceeded
   */
  static ResponseHead head(IOException failure, AgentConfig config) {
    String target = config.target().toString();
    if (failure instanceof UnknownHostException) {
      return ResponseHead.failed(Failure.BACKEND_UNREACHABLE,
          "The backend host of " + target + " could not be resolved.");
    }
    if (failure instanceof ConnectTimeoutException) {
      return ResponseHead.failed(Failure.BACKEND_TIMEOUT, "The backend at " + target
          + " did not accept a connection within " + Durations.format(config.connectTimeout()) + ".");
    }
    if (failure instanceof HttpHostConnectException) {
      return ResponseHead.failed(Failure.BACKEND_UNREACHABLE,
          "The backend at " + target + " refused the connection.");
    }
    if (failure instanceof SocketTimeoutException) {
      return ResponseHead.failed(Failure.BACKEND_TIMEOUT, "The backend at " + target
          + " did not answer within " + Durations.format(config.backendTimeout()) + ".");
    }
    if (failure instanceof NoHttpResponseException) {
      return ResponseHead.failed(Failure.BACKEND_UNREACHABLE,
          "The backend at " + target + " closed the connection without answering.");
    }
    if (failure instanceof SSLException) {
      return ResponseHead.failed(Failure.BACKEND_UNREACHABLE,
          "The TLS handshake with the backend at " + target + " failed.");
    }
    if (failure instanceof MessageConstraintException) {
      return ResponseHead.failed(Failure.BAD_BACKEND_RESPONSE, "The backend at " + target
          + " sent a response head the agent does not take (" + failure.getMessage()
          + "; the proxy relays heads of up to 8 KiB).");
    }
    if (isProtocolError(failure)) {
      return ResponseHead.failed(Failure.BAD_BACKEND_RESPONSE,
          "The backend at " + target + " sent a response that is not valid HTTP.");
    }
    return ResponseHead.failed(Failure.BACKEND_UNREACHABLE,
        "The connection to the backend at " + target + " failed.");
  }

  private static boolean isProtocolError(IOException failure) {
    // HttpClient wraps HttpException (ProtocolException, ParseException) in ClientProtocolException.
    Throwable cause = failure.getCause();
    return cause instanceof ProtocolException
        || cause instanceof HttpException
        || failure instanceof org.apache.hc.core5.http.MalformedChunkCodingException;
  }
}
