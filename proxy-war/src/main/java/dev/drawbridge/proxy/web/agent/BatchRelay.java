package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.protocol.BatchAnswer;
import dev.drawbridge.protocol.BatchedResponse;
import dev.drawbridge.protocol.FrameException;
import dev.drawbridge.protocol.FrameReader;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.WireJson;
import dev.drawbridge.proxy.exchange.Tunnel;
import dev.drawbridge.proxy.web.BufferReads;
import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Reads a batch of complete responses without blocking and hands each to its exchange as soon as
 * its frame is whole. Responses before a malformed frame stand; the agent learns which ones did
 * not reach their exchange from the answer.
 */
final class BatchRelay implements ReadListener, AsyncListener {

  private static final Logger LOG = Logger.getLogger(BatchRelay.class.getName());
  private static final int BUFFER = 64 * 1024;

  /** A batch refused this often is not an agent's honest mistake; reading stops there. */
  private static final int MAX_REFUSED = 64;

  private final Tunnel tunnel;
  private final AgentCaller caller;
  private final AsyncContext async;
  private final ServletInputStream in;
  private final FrameReader frames = FrameReader.forBatch();
  private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER).flip();
  private final List<BatchAnswer.Refusal> refused = new ArrayList<>();
  private final AtomicBoolean answered = new AtomicBoolean();

  private BatchRelay(Tunnel tunnel, AgentCaller caller, AsyncContext async, ServletInputStream in) {
    this.tunnel = tunnel;
    this.caller = caller;
    this.async = async;
    this.in = in;
  }

  /**
   * @param streamed a streamed batch, which the agent keeps open while responses keep coming
   */
  static void start(Tunnel tunnel, AgentCaller caller, AsyncContext async, boolean streamed) throws IOException {
    // A batch holds only whole small responses: one that stalls for the idle timeout is broken. A
    // stream is quiet between responses by design; its agent ends it within the stream timeout.
    long timeout = tunnel.settings().idleTimeout().toMillis();
    if (streamed) {
      timeout = Math.max(timeout, Protocol.STREAM_TIMEOUT_SECONDS * 1000L);
    }
    async.setTimeout(timeout);
    BatchRelay relay = new BatchRelay(tunnel, caller, async, async.getRequest().getInputStream());
    async.addListener(relay);
    relay.in.setReadListener(relay);
  }

  /**
   * Reads and delivers; only ever on the agent connection's own callbacks, which the container runs
   * one at a time. Delivering touches no client connection: it hands each response to its
   * client's lane.
   */
  private void pump() throws IOException {
    while (!answered.get()) {
      FrameReader.Event event;
      try {
        event = frames.next(buffer);
      } catch (FrameException e) {
        answer(400, "Malformed response batch: " + e.getMessage());
        return;
      }
      switch (event) {
        case RESPONSE:
          deliver(frames.response());
          break;
        case END:
          answer(refused.isEmpty() ? 204 : 200, null);
          return;
        default:
          if (!readMore()) {
            return;
          }
      }
    }
  }

  private void deliver(byte[] payload) {
    BatchedResponse response;
    try {
      response = BatchedResponse.parse(payload);
    } catch (FrameException e) {
      answer(400, "Malformed response batch: " + e.getMessage());
      return;
    }
    BatchAnswer.Refusal refusal =
        BatchedDelivery.deliver(tunnel, caller, response, tunnel.settings().via());
    if (refusal != null) {
      refused.add(refusal);
      if (refused.size() > MAX_REFUSED) {
        answer(400, "More than " + MAX_REFUSED + " responses of this batch were refused; stopped reading it.");
      }
    }
  }

  /** Reads more of the batch; false when nothing is available now or it ended. */
  private boolean readMore() throws IOException {
    if (in.isFinished()) {
      answer(400, "The response batch ended without an end frame.");
      return false;
    }
    if (!in.isReady()) {
      return false;
    }
    int n = BufferReads.readInto(in, buffer);
    if (n < 0) {
      answer(400, "The response batch ended without an end frame.");
      return false;
    }
    return true;
  }

  /** Answers once: {@code message} null means the batch was read whole. */
  private void answer(int status, String message) {
    if (!answered.compareAndSet(false, true)) {
      return;
    }
    try {
      HttpServletResponse response = (HttpServletResponse) async.getResponse();
      if (message != null) {
        Responses.agentText(response, status, message);
      } else if (status == 200) {
        byte[] body = WireJson.write(new BatchAnswer(List.copyOf(refused)));
        Responses.agentJsonHead(response, body.length);
        response.getOutputStream().write(body);
      } else {
        response.setStatus(status);
      }
      async.complete();
    } catch (IOException | IllegalStateException e) {
      LOG.log(Level.FINE, "Could not answer the agent's response batch", e);
    }
  }

  @Override
  public void onDataAvailable() throws IOException {
    pump();
  }

  @Override
  public void onAllDataRead() throws IOException {
    pump();
  }

  @Override
  public void onError(Throwable failure) {
    LOG.log(Level.FINE, "The connection to the agent broke during a response batch", failure);
    answer(400, "The response batch broke.");
  }

  @Override
  public void onTimeout(AsyncEvent event) {
    answer(408, "The response batch stalled; whole responses before the stall were delivered.");
  }

  @Override
  public void onError(AsyncEvent event) {
    onError(event.getThrowable());
  }

  @Override
  public void onComplete(AsyncEvent event) {
    // Nothing held: each response was handed to its exchange as it arrived.
  }

  @Override
  public void onStartAsync(AsyncEvent event) {
    // Not re-started.
  }
}
