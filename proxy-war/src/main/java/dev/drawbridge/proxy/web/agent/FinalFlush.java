package dev.drawbridge.proxy.web.agent;

import jakarta.servlet.ServletOutputStream;
import java.io.IOException;

/**
 * The last step before a response written without blocking may be completed: everything written
 * is flushed once, and the response completes only when the container handed it all to the socket.
 * Tomcat cannot finish a request whose last bytes are still pending when the peer resets the
 * connection: it skips {@code onComplete} and recycles the request forcibly (and logs it). A
 * pending flush that fails instead reaches the write listener's {@code onError}, the container's
 * ordinary error path.
 */
final class FinalFlush {

  private volatile boolean flushed;

  /**
   * True once everything written to {@code out} reached the socket; false while the container
   * still holds some of it, and the write listener's {@code onWritePossible} is then to ask again.
   */
  boolean done(ServletOutputStream out) throws IOException {
    if (!out.isReady()) {
      return false;
    }
    if (!flushed) {
      flushed = true;
      out.flush();
      return out.isReady();
    }
    return true;
  }
}
