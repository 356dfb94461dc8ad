package dev.drawbridge.agent;

import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.Protocol;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.AbstractHttpEntity;

/**
 * The body of a batch call: the response frames as they are, one after the other, then the end
 * frame. Written straight from the frames, so a response body is not copied again into one array.
 */
final class ResponseBatchEntity extends AbstractHttpEntity {

  private static final ContentType FRAMES = ContentType.create(Protocol.FRAMES_TYPE);
  private static final byte[] END = Frames.end();

  private final List<byte[]> frames;
  private final long length;

  ResponseBatchEntity(List<byte[]> frames) {
    super(FRAMES, null, false);
    this.frames = frames;
    long total = END.length;
    for (byte[] frame : frames) {
      total += frame.length;
    }
    this.length = total;
  }

  @Override
  public void writeTo(OutputStream proxyCall) throws IOException {
    for (byte[] frame : frames) {
      proxyCall.write(frame);
    }
    proxyCall.write(END);
  }

  @Override
  public long getContentLength() {
    return length;
  }

  @Override
  public InputStream getContent() {
    throw new UnsupportedOperationException("a response batch is written, not read");
  }

  @Override
  public boolean isRepeatable() {
    return true;
  }

  @Override
  public boolean isStreaming() {
    return false;
  }

  @Override
  public void close() {
    // Nothing held but the frames.
  }
}
