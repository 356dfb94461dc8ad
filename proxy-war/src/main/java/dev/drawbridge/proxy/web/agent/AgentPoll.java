package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.protocol.PollResult;
import dev.drawbridge.protocol.PollUnits;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.protocol.WireJson;
import dev.drawbridge.proxy.exchange.AgentSession;
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
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
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
  private final PollWriter writer;
  /** True for a streamed poll: its answers do not end it. */
  private final boolean streams;
  private final AgentSession session;
  private final LongSupplier clock;
  /** When the poll began, on {@link #clock}: a streamed poll stamps each answer with the time since. */
  private volatile long streamStartNanos;
  /** Exchanges a streamed poll handed over so far. */
  private volatile int delivered;

  /**
   * The poll's own request thread while it is still in {@code service()}: an answer found at once
   * is written there, without a hand-off, since it touches no other connection.
   */
  private volatile Thread serviceThread = Thread.currentThread();

  AgentPoll(
      AsyncContext async, Handoff handoff, Backend backend, AgentSession session, int max, long deadlineNanos,
      boolean upgrades, boolean streams, LongSupplier clock) throws IOException {
    this.clock = clock;
    this.session = session;
    this.upgrades = upgrades;
    this.async = async;
    this.handoff = handoff;
    this.backend = backend;
    this.agentId = session.agentId();
    this.max = max;
    this.deadlineNanos = deadlineNanos;
    async.addListener(this);
    this.streams = streams;
    this.writer = new PollWriter(async, streams, this::giveUp);
  }

  @Override
  public String agentId() {
    return agentId;
  }

  @Override
  public int max() {
    return max - delivered;
  }

  @Override
  public boolean streams() {
    return streams;
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
    Consumer<Throwable> onFailure = failure -> failUndelivered(exchanges, failure);
    Runnable write;
    if (!streams) {
      byte[] body = WireJson.write(new PollResult(heads, cancelled, draining));
      write = () -> writer.send(body, true, null, onFailure);
    } else {
      // Nothing to say ends the stream: the poll wait ended, or the agent is to call again now.
      boolean empty = exchanges.isEmpty() && cancelled.isEmpty();
      delivered += exchanges.size();
      boolean ends = empty || draining || delivered >= max;
      long millis = Math.max(1, (clock.getAsLong() - streamStartNanos) / 1_000_000);
      byte[] unit = PollUnits.encode(new PollResult(heads, cancelled, draining, millis));
      write = () -> writer.send(unit, ends, this::parkAgain, onFailure);
    }
    if (Thread.currentThread() == serviceThread) {
      write.run();
    } else {
      handoff.execute(write);
    }
  }

  /**
   * Hands the poll to its backend. A streamed poll for no work first writes an empty answer, at
   * once, so that the agent can tell whether the stream reaches it as it is written; one for work
   * does not, since its first answer then would cost a write and a read on every such poll.
   */
  void start() {
    streamStartNanos = clock.getAsLong();
    if (!streams || max > 0) {
      backend.poll(this, session);
      return;
    }
    writer.send(PollUnits.encode(new PollResult(List.of(), List.of(), false)), false,
        () -> backend.poll(this, session), failure -> giveUp());
  }

  /** A streamed poll's answer was written and the stream goes on: the poll waits for the next. */
  private void parkAgain() {
    answered.set(false);
    backend.pollAgain(this, session);
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
    backend.undelivered(exchanges, session);
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
    connectionEnded(new TimeoutException("The container's timeout of the poll ran out."));
  }

  @Override
  public void onError(AsyncEvent event) {
    connectionEnded(event.getThrowable());
  }

  /**
   * The container ended the poll's connection. An answer still being written fails its exchanges,
   * since some containers tell only the request's listeners, not the write listener.
   */
  private void connectionEnded(Throwable failure) {
    writer.onError(failure);
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
