package dev.drawbridge.agent;

import dev.drawbridge.protocol.FramedOutputStream;
import dev.drawbridge.protocol.ResponseHead;
import dev.drawbridge.protocol.WireJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The body of the response upload to the proxy: the head frame, then the backend body as data
 * frames as it arrives, then the end frame. Written once, chunked, never buffered whole.
 *
 * <p>Failures on the two legs end differently: a backend read that fails becomes an abort frame
 * and the upload still completes (so the proxy can tell the client the body was cut short), while
 * a proxy write that fails propagates and fails the upload.
 *
 * <p>While the backend sends nothing, {@link Keepalives} write keepalive frames between the data
 * frames, so the call is not cut as idle on its way to the proxy. The two writers take turns under
 * one lock; a keepalive is skipped while a write is under way.
 */
final class ResponseUpload extends FramesEntity {

  /** Big enough for bulk transfers, small enough that 64 exchanges stay in a few MiB. */
  static final int BUFFER_SIZE = 64 * 1024;

  private final ResponseHead responseHead;
  private final InputStream backendBody;
  private final Keepalives keepalives;
  private final ReentrantLock writing = new ReentrantLock();
  /** The stream being written; set once the head is out, guarded by {@link #writing}. */
  private FramedOutputStream frames;
  /** Set once the end or abort frame is out; guarded by {@link #writing}. */
  private boolean finished;
  private volatile long bytesCopied;
  private volatile IOException backendFailure;

  /**
   * @param backendBody the backend's body, or null when the response has none
   */
  ResponseUpload(ResponseHead responseHead, InputStream backendBody) {
    this(responseHead, backendBody, Keepalives.NONE);
  }

  /**
   * @param keepalives what keeps the call open while the backend is silent; {@link
   *     Keepalives#NONE} toward a proxy that does not read keepalive frames
   */
  ResponseUpload(ResponseHead responseHead, InputStream backendBody, Keepalives keepalives) {
    super(-1);
    this.responseHead = responseHead;
    this.backendBody = backendBody;
    this.keepalives = keepalives;
  }

  @Override
  public void writeTo(OutputStream proxyUpload) throws IOException {
    // Not closed here: HttpClient closes the chunked stream itself, writing its last chunk.
    FramedOutputStream out = new FramedOutputStream(proxyUpload);
    out.writeHead(WireJson.write(responseHead));
    out.flush();
    if (backendBody == null) {
      finish(out, null);
      return;
    }
    writing.lock();
    try {
      frames = out;
    } finally {
      writing.unlock();
    }
    try (Keepalives.Registration idle = keepalives.registerBlocking(this::sendKeepalive)) {
      copyBody(out, idle);
    } finally {
      // After a failed write too: HttpClient then drops the connection, and no keepalive may follow.
      writing.lock();
      try {
        finished = true;
      } finally {
        writing.unlock();
      }
    }
  }

  /** Copies the backend's body as data frames, then writes the end frame (or the abort frame). */
  private void copyBody(FramedOutputStream out, Keepalives.Registration idle) throws IOException {
    byte[] buffer = new byte[BUFFER_SIZE];
    while (true) {
      int n;
      try {
        n = backendBody.read(buffer);
      } catch (IOException e) {
        backendFailure = e;
        finish(out, "backend connection broke: " + Reasons.describe(e));
        return;
      }
      if (n < 0) {
        break;
      }
      idle.carried();
      writing.lock();
      try {
        out.write(buffer, 0, n);
        // Every read goes out at once: Server-Sent Events and long polls must not wait in a buffer.
        out.flush();
      } finally {
        writing.unlock();
      }
      bytesCopied += n;
    }
    finish(out, null);
  }

  /** Writes the end frame, or the abort frame for {@code abortReason}. */
  private void finish(FramedOutputStream out, String abortReason) throws IOException {
    writing.lock();
    try {
      finished = true;
      if (abortReason == null) {
        out.finish();
      } else {
        out.abort(abortReason);
        out.flush();
      }
    } finally {
      writing.unlock();
    }
  }

  /** A keepalive frame, unless a write is under way (which carries the call anyway) or the stream ended. */
  private void sendKeepalive() throws IOException {
    if (!writing.tryLock()) {
      return;
    }
    try {
      if (frames != null && !finished) {
        frames.keepalive();
        frames.flush();
      }
    } finally {
      writing.unlock();
    }
  }

  /** Backend body bytes sent so far. */
  long bytesCopied() {
    return bytesCopied;
  }

  /** The backend read that broke the body, or null. */
  IOException backendFailure() {
    return backendFailure;
  }

  @Override
  public void close() throws IOException {
    if (backendBody != null) {
      backendBody.close();
    }
  }
}
