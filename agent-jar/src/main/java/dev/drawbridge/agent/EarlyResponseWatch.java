package dev.drawbridge.agent;

import java.io.IOException;
import java.io.InputStream;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.io.HttpClientConnection;
import org.apache.hc.core5.http.io.ResponseOutOfOrderStrategy;
import org.apache.hc.core5.util.Timeout;

/**
 * Lets the backend leg notice an answer that arrives while a request body is still being sent, as
 * a service's 401 or 413 to an upload it will not take. HttpClient then stops sending, reads that
 * answer and closes the connection, and the client gets the service's status. Without it the
 * client would get 502 whenever the service, having answered, stops reading and closes: the rest
 * of the upload meets a closed socket.
 *
 * <p>Looked for at every {@link #PLAIN_INTERVAL} bytes on a plain connection, where asking the
 * socket what is waiting costs one system call, and at every {@link #TLS_INTERVAL} bytes over TLS,
 * where only a read with a short timeout can tell, so it costs up to a millisecond each time.
 */
final class EarlyResponseWatch implements ResponseOutOfOrderStrategy {

  static final long PLAIN_INTERVAL = 64 * 1024;
  static final long TLS_INTERVAL = 1024 * 1024;

  static final EarlyResponseWatch INSTANCE = new EarlyResponseWatch();

  private EarlyResponseWatch() {}

  @Override
  public boolean isEarlyResponseDetected(
      ClassicHttpRequest request, HttpClientConnection connection, InputStream socketIn, long sent, long nextWrite)
      throws IOException {
    boolean tls = connection.getSSLSession() != null;
    long interval = tls ? TLS_INTERVAL : PLAIN_INTERVAL;
    if (sent / interval == (sent + nextWrite) / interval) {
      return false;
    }
    return tls ? connection.isDataAvailable(Timeout.ONE_MILLISECOND) : socketIn.available() > 0;
  }
}
