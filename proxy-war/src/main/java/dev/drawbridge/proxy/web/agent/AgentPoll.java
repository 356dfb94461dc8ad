package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.protocol.PollResult;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.protocol.WireJson;
import dev.drawbridge.proxy.exchange.Backend;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.exchange.PendingPoll;
import dev.drawbridge.proxy.web.Handoff;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * An agent's poll held with {@link AsyncContext} until its backend answers it. The answer usually
 * comes from a thread serving another connection (a client's request, an ended exchange), so it is
 * written on a {@link Handoff} thread.
 */
final class AgentPoll implements PendingPoll, AsyncListener {

  private static final Logger LOG = Logger.getLogger(AgentPoll.class.getName());

  private final AsyncContext async;
  private final Handoff handoff;
  private final Backend backend;
  private final String agentId;
  private final int max;
  private final long deadlineNanos;
  private final boolean upgrades;
  private final AtomicBoolean answered = new AtomicBoolean();
  private final PollAnswerWriter writer;

  /**
   * The poll's own request thread while it is still in {@code service()}: an answer found at once
   * is written there, without a hand-off, since it touches no other connection.
   */
  private volatile Thread serviceThread = Thread.currentThread();

  AgentPoll(
      AsyncContext async, Handoff handoff, Backend backend, String agentId, int max, long deadlineNanos,
      boolean upgrades) throws IOException {
    this.upgrades = upgrades;
    this.async = async;
    this.handoff = handoff;
    this.backend = backend;
    this.agentId = agentId;
    this.max = max;
    this.deadlineNanos = deadlineNanos;
    async.addListener(this);
    this.writer = new PollAnswerWriter(async, this::giveUp);
  }

  @Override
  public String agentId() {
    return agentId;
  }

  @Override
  public int max() {
    return max;
  }

  @Override
  public long deadlineNanos() {
    return deadlineNanos;
  }

  @Override
  public boolean upgrades() {
    return upgrades;
  }

  @Override
  public void answer(List<Exchange> exchanges, List<String> cancelled, boolean draining) {
    if (!answered.compareAndSet(false, true)) {
      // Only the container's own timeout or error can race here, and it already gave up.
      failUndelivered(exchanges, null);
      return;
    }
    List<RequestHead> heads = new ArrayList<>(exchanges.size());
    for (Exchange exchange : exchanges) {
      heads.add(exchange.head());
    }
    byte[] body = WireJson.write(new PollResult(heads, cancelled, draining));
    Consumer<Throwable> onFailure = failure -> failUndelivered(exchanges, failure);
    if (Thread.currentThread() == serviceThread) {
      writer.answer(body, onFailure);
    } else {
      handoff.execute(() -> writer.answer(body, onFailure));
    }
  }

  /** Called when the poll's {@code service()} returns: from now on answers come from elsewhere. */
  void leftService() {
    serviceThread = null;
  }

  private void failUndelivered(List<Exchange> exchanges, Throwable failure) {
    if (exchanges.isEmpty()) {
      return;
    }
    LOG.log(Level.FINE, "Poll answer to agent " + agentId + " could not be written", failure);
    for (Exchange exchange : exchanges) {
      exchange.fail(502, "The connection to the agent broke while the request was handed over.");
    }
  }

  private void giveUp() {
    if (answered.compareAndSet(false, true)) {
      backend.forget(this);
      try {
        async.complete();
      } catch (IllegalStateException e) {
        // Already completed by the container.
      }
    }
  }

  @Override
  public void onTimeout(AsyncEvent event) {
    giveUp();
  }

  @Override
  public void onError(AsyncEvent event) {
    giveUp();
  }

  @Override
  public void onComplete(AsyncEvent event) {
    if (!answered.get()) {
      backend.forget(this);
    }
  }

  @Override
  public void onStartAsync(AsyncEvent event) {
    // Not re-started.
  }
}
