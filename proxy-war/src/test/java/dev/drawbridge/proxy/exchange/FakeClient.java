package dev.drawbridge.proxy.exchange;

import dev.drawbridge.proxy.net.ConnectionKey;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/** Records what the state machine did to the client, one line per call. */
final class FakeClient implements ClientLeg {
  final BlockingQueue<String> events = new LinkedBlockingQueue<>();
  volatile boolean committed;
  volatile ConnectionKey connection;

  @Override
  public ConnectionKey connection() {
    return connection;
  }

  @Override
  public boolean isCommitted() {
    return committed;
  }

  @Override
  public void sendError(int status, String message, int retryAfterSeconds) {
    events.add("error " + status + " retry " + retryAfterSeconds + ": " + message);
  }

  @Override
  public void complete() {
    events.add("complete");
  }

  @Override
  public void abort(String reason) {
    events.add("abort: " + reason);
  }

  @Override
  public void discard() {
    events.add("discard");
  }
}
