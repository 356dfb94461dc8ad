package dev.drawbridge.agent;

import dev.drawbridge.protocol.FramedOutputStream;
import dev.drawbridge.protocol.ResponseHead;
import dev.drawbridge.protocol.WireJson;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The body of the response upload to the proxy: the head frame, then the backend body as data
 * frames as it arrives, then the end frame. Written once, chunked, never buffered whole.
 *
 * <p>Failures on the two legs end differently: a backend read that fails becomes an abort frame
 * and the upload still completes (so the proxy can tell the client the body was cut short), while
 * a proxy write that fails propagates and fails the upload.
 */
final class ResponseUpload extends FramesEntity {

  /** Big enough for bulk transfers, small enough that 64 exchanges stay in a few MiB. */
  static final int BUFFER_SIZE = 64 * 1024;

  private final ResponseHead responseHead;
  private final InputStream backendBody;
  private volatile long bytesCopied;
  private volatile IOException backendFailure;

  /**
   * @param backendBody the backend's body, or null when the response has none
   */
  ResponseUpload(ResponseHead responseHead, InputStream backendBody) {
    super(-1);
    this.responseHead = responseHead;
    this.backendBody = backendBody;
  }

  @Override
  public void writeTo(OutputStream proxyUpload) throws IOException {
    // Not closed here: HttpClient closes the chunked stream itself, writing its last chunk.
    FramedOutputStream frames = new FramedOutputStream(proxyUpload);
    frames.writeHead(WireJson.write(responseHead));
    frames.flush();
    if (backendBody != null) {
      byte[] buffer = new byte[BUFFER_SIZE];
      while (true) {
        int n;
        try {
          n = backendBody.read(buffer);
        } catch (IOException e) {
          backendFailure = e;
          frames.abort("backend connection broke: " + Reasons.describe(e));
          frames.flush();
          return;
        }
        if (n < 0) {
          break;
        }
        frames.write(buffer, 0, n);
        bytesCopied += n;
        // Every read goes out at once: Server-Sent Events and long polls must not wait in a buffer.
        frames.flush();
      }
    }
    frames.finish();
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
