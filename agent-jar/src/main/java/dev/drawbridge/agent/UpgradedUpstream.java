package dev.drawbridge.agent;

import dev.drawbridge.protocol.FrameException;
import dev.drawbridge.protocol.FrameReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.nio.AsyncResponseConsumer;
import org.apache.hc.core5.http.nio.CapacityChannel;
import org.apache.hc.core5.http.protocol.HttpContext;

/**
 * The answer to an upgraded connection's request-body call, which carries the client's bytes from
 * the proxy: data frames up to the end frame. Read on the HTTP client's I/O thread; the call is
 * given more capacity only once the backend took what came before.
 */
final class UpgradedUpstream implements AsyncResponseConsumer<Void> {

  /** What the connection hears from the call; every method may be called on an I/O thread. */
  interface Connection {

    /** Bytes of the client's, {@code consumed} of the call's, decoded; {@code abort} when it ended so. */
    void clientBytes(int consumed, List<ByteBuffer> data, boolean end, String abort);

    /** The call can take more: grant it when the backend took what came before. */
    void capacityOffered();

    /** The call ended or broke; the connection ends for {@code reason}. */
    void ended(String reason);
  }


  private final FrameReader reader = new FrameReader(false);
  private final Connection connection;
  /** Bytes consumed since the call was last given capacity; on the loop's thread. */
  private long unacknowledged;
  private volatile CapacityChannel capacity;
  private FutureCallback<Void> done;

  UpgradedUpstream(Connection connection) {
    this.connection = connection;
  }

  @Override
  public void consumeResponse(HttpResponse response, EntityDetails entity, HttpContext context,
      FutureCallback<Void> resultCallback) {
    if (response.getCode() != 200 || entity == null) {
      int status = response.getCode();
      connection.ended("the proxy refused the client's side (" + status + ")");
      resultCallback.completed(null);
      return;
    }
    done = resultCallback;
  }

  @Override
  public void informationResponse(HttpResponse response, HttpContext context) {
    // Not expected; nothing to do.
  }

  @Override
  public void updateCapacity(CapacityChannel channel) {
    capacity = channel;
    connection.capacityOffered();
  }

  void consumed(int bytes) {
    unacknowledged += bytes;
  }

  /** The backend took everything: let the call deliver as much again. On the loop's thread. */
  void grant() throws IOException {
    CapacityChannel channel = capacity;
    if (channel == null || unacknowledged == 0) {
      return;
    }
    int bytes = (int) Math.min(Integer.MAX_VALUE, unacknowledged);
    unacknowledged -= bytes;
    channel.update(bytes);
  }

  @Override
  public void consume(ByteBuffer src) {
    int length = src.remaining();
    byte[] copy = new byte[length];
    src.get(copy);
    ByteBuffer in = ByteBuffer.wrap(copy);
    List<ByteBuffer> data = new ArrayList<>(2);
    boolean end = false;
    String abort = null;
    try {
      decoding:
      while (true) {
        switch (reader.next(in)) {
          case DATA:
            data.add(ByteBuffer.wrap(copy, reader.dataOffset(), reader.dataLength()));
            break;
          case END:
            end = true;
            break decoding;
          case ABORT:
            abort = "the proxy aborted it: " + reader.abortReason();
            break decoding;
          default:
            break decoding;
        }
      }
    } catch (FrameException e) {
      abort = "broken framing: " + e.getMessage();
    }
    connection.clientBytes(length, data, end, abort);
  }

  @Override
  public void streamEnd(List<? extends Header> trailers) {
    if (!reader.isFinished()) {
      connection.ended("the client's side ended: the stream was cut short");
    }
    FutureCallback<Void> callback = done;
    if (callback != null) {
      callback.completed(null);
    }
  }

  @Override
  public void failed(Exception cause) {
    connection.ended("the client's side ended: " + Reasons.describe(cause));
  }

  @Override
  public void releaseResources() {
    // Nothing held.
  }
}
