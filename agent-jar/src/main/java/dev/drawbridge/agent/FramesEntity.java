package dev.drawbridge.agent;

import dev.drawbridge.protocol.Protocol;
import java.io.IOException;
import java.io.InputStream;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.AbstractHttpEntity;

/**
 * A call's body of frames ({@link Protocol#FRAMES_TYPE}) that the agent writes and never reads
 * back. One of known length is whole in memory, so HttpClient may send it again; one of unknown
 * length is written while the call runs, chunked, and goes out once.
 */
abstract class FramesEntity extends AbstractHttpEntity {

  private static final ContentType FRAMES = ContentType.create(Protocol.FRAMES_TYPE);

  private final long length;

  /** @param length the body's length, or -1 for one written while the call runs */
  FramesEntity(long length) {
    super(FRAMES, null, length < 0);
    this.length = length;
  }

  @Override
  public final long getContentLength() {
    return length;
  }

  @Override
  public final InputStream getContent() {
    throw new UnsupportedOperationException("a body of frames is written, not read");
  }

  @Override
  public final boolean isRepeatable() {
    return length >= 0;
  }

  @Override
  public final boolean isStreaming() {
    return length < 0;
  }

  /** Nothing to release unless a subclass holds something. */
  @Override
  public void close() throws IOException {}
}
