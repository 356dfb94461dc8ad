package dev.drawbridge.agent;

import dev.drawbridge.protocol.Frames;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;

/**
 * The body of a batch call: the response frames as they are, one after the other, then the end
 * frame. Written straight from the frames, so a response body is not copied again into one array.
 */
final class ResponseBatchEntity extends FramesEntity {

  private static final byte[] END = Frames.end();

  private final List<byte[]> frames;

  ResponseBatchEntity(List<byte[]> frames) {
    super(length(frames));
    this.frames = frames;
  }

  private static long length(List<byte[]> frames) {
    long total = END.length;
    for (byte[] frame : frames) {
      total += frame.length;
    }
    return total;
  }

  @Override
  public void writeTo(OutputStream proxyCall) throws IOException {
    for (byte[] frame : frames) {
      proxyCall.write(frame);
    }
    proxyCall.write(END);
  }
}
