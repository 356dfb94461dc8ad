package dev.drawbridge.proxy.web.client;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ReadListener;
import jakarta.servlet.WriteListener;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The container callbacks of an {@link UpgradeRelay}'s connections. Each runs on its own
 * connection's thread (or inline on whichever thread touched that connection), so each only
 * records what happened and wakes the relay's lane: none touches a stream. The one exception is an
 * agent call that broke, which its error callback completes itself, on that call's own connection.
 */
final class UpgradeStreams {

  /** Prefix of a failure that is the client's, not the agent's. */
  static final String CLIENT = "client: ";

  private final UpgradeRelay relay;
  private final AtomicReference<String> failure = new AtomicReference<>();
  private volatile boolean clientInputEnded;
  private final AtomicLong clientReadEvents = new AtomicLong();

  UpgradeStreams(UpgradeRelay relay) {
    this.relay = relay;
  }

  /** The first failure recorded, once; null when none. */
  String takeFailure() {
    return failure.getAndSet(null);
  }

  /** How many times the client's input said it has more (bytes or its end); a lane compares two counts. */
  long clientReadEvents() {
    return clientReadEvents.get();
  }

  /** True once the client's side of an upgraded connection reached its end. */
  boolean clientInputEnded() {
    return clientInputEnded;
  }

  private void failed(String what, Throwable cause) {
    failure.compareAndSet(null, what + ": " + cause);
    relay.wake();
  }

  /** The container closed the client's connection: as good as the client's end of input. */
  void clientClosed() {
    clientInputEnded = true;
    clientReadEvents.incrementAndGet();
    relay.wake();
  }

  ReadListener clientReads() {
    return new ReadListener() {
      @Override
      public void onDataAvailable() {
        clientReadEvents.incrementAndGet();
        relay.wake();
      }

      @Override
      public void onAllDataRead() {
        clientInputEnded = true;
        clientReadEvents.incrementAndGet();
        relay.wake();
      }

      @Override
      public void onError(Throwable cause) {
        failed(CLIENT + "the client's connection broke", cause);
      }
    };
  }

  WriteListener clientWrites() {
    return new WriteListener() {
      @Override
      public void onWritePossible() {
        relay.wake();
      }

      @Override
      public void onError(Throwable cause) {
        failed(CLIENT + "the client's connection broke", cause);
      }
    };
  }

  ReadListener agentAnswerReads() {
    return new ReadListener() {
      @Override
      public void onDataAvailable() {
        relay.wake();
      }

      @Override
      public void onAllDataRead() {
        relay.wake();
      }

      @Override
      public void onError(Throwable cause) {
        relay.agentAnswerCallBroke(relay.agentAnswerAsync());
        failed("the agent's response call broke", cause);
      }
    };
  }

  WriteListener agentBodyWrites() {
    return new WriteListener() {
      @Override
      public void onWritePossible() {
        relay.wake();
      }

      @Override
      public void onError(Throwable cause) {
        relay.agentBodyCallBroke(relay.agentBodyAsync());
        failed("the agent's request-body call broke", cause);
      }
    };
  }

  AsyncListener agentAnswerEvents() {
    return new AgentCallEvents("the agent's response call", true);
  }

  AsyncListener agentBodyEvents() {
    return new AgentCallEvents("the agent's request-body call", false);
  }

  /** An agent call's end as the container sees it: an error or timeout there is the agent's. */
  private final class AgentCallEvents implements AsyncListener {
    private final String call;
    private final boolean answerCall;

    AgentCallEvents(String call, boolean answerCall) {
      this.call = call;
      this.answerCall = answerCall;
    }

    @Override
    public void onError(AsyncEvent event) {
      if (answerCall) {
        relay.agentAnswerCallBroke(event.getAsyncContext());
      } else {
        relay.agentBodyCallBroke(event.getAsyncContext());
      }
      failed(call + " failed", event.getThrowable());
    }

    @Override
    public void onTimeout(AsyncEvent event) {
      // Completed here like a broken call, so the container never ends it itself under the lane.
      if (answerCall) {
        relay.agentAnswerCallBroke(event.getAsyncContext());
      } else {
        relay.agentBodyCallBroke(event.getAsyncContext());
      }
      failed(call + " timed out", new IllegalStateException("container timeout"));
    }

    @Override
    public void onComplete(AsyncEvent event) {
      relay.wake();
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
      // Not re-started.
    }
  }
}
