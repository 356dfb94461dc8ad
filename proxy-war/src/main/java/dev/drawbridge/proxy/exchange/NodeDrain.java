package dev.drawbridge.proxy.exchange;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

/**
 * How this node stops taking work and lets what it holds finish. An operator's drain ({@link
 * #leave}) first takes the node out of its load balancer and drains later; the container's stop
 * ({@link #beginClose}, {@link #close}) drains at once and cuts what still streams when the grace
 * ends. Both end in {@link Tunnel.Phase#DRAINING}. Deadlines are read on the tunnel's clock and
 * enforced by its sweep ({@link #checkStop}).
 */
final class NodeDrain {

  private static final Logger LOG = Logger.getLogger(NodeDrain.class.getName());

  private final Tunnel tunnel;
  /** The tunnel's live exchanges, a view. */
  private final Collection<Exchange> exchanges;
  /** Schedules the end of an operator's drain delay; null in tests that sweep by hand. */
  private final ScheduledExecutorService reaper;
  /** Longest wait between two looks at the clock while {@link #close} waits. */
  private final long sliceNanos;

  private final AtomicReference<Tunnel.Phase> phase = new AtomicReference<>(Tunnel.Phase.SERVING);
  /**
   * When the stop's drain grace ends, on the tunnel's clock; null until the first {@link
   * #beginClose(Duration)}, which {@link #close(Duration)} begins with, sets it.
   */
  private final AtomicReference<Long> closeGraceEnds = new AtomicReference<>();
  /** Set by the first {@link #close(Duration)}: only that one waits for the grace. */
  private final AtomicBoolean closeCalled = new AtomicBoolean();
  /** Set once the responses still streaming when the stop's grace ended were cut. */
  private final AtomicBoolean closeGraceCut = new AtomicBoolean();
  /** Tells whether the container began stopping the web application; checked on every sweep. */
  private volatile BooleanSupplier containerStopping = () -> false;
  /** Set once a sweep saw the container begin stopping the web application. */
  private volatile boolean containerStopSeen;
  /** Notified whenever the last live exchange ends, for {@link #close(Duration)}. */
  private final Object drained = new Object();

  NodeDrain(Tunnel tunnel, Collection<Exchange> exchanges, ScheduledExecutorService reaper, long sweepMillis) {
    this.tunnel = tunnel;
    this.exchanges = exchanges;
    this.reaper = reaper;
    this.sliceNanos = TimeUnit.MILLISECONDS.toNanos(sweepMillis);
  }

  Tunnel.Phase phase() {
    return phase.get();
  }

  /** See {@link Tunnel#leave()}. */
  boolean leave() {
    if (!phase.compareAndSet(Tunnel.Phase.SERVING, Tunnel.Phase.LEAVING)) {
      return false;
    }
    Duration delay = tunnel.settings().drainDelay();
    LOG.info(() -> "Drawbridge proxy leaving its load balancer: readiness answers 503 from now on; it keeps taking"
        + " work for " + delay.toSeconds() + " s (drainDelaySeconds), then tells its agents and takes no new requests");
    reaper.schedule(this::stopTakingWork, delay.toMillis(), TimeUnit.MILLISECONDS);
    return true;
  }

  private void stopTakingWork() {
    if (phase.compareAndSet(Tunnel.Phase.LEAVING, Tunnel.Phase.DRAINING)) {
      LOG.info(() -> "Drawbridge proxy draining: agents are told, new requests get 503, the " + exchanges.size()
          + " requests queued or in flight finish; stop the node once readiness shows liveExchanges 0");
      for (Backend backend : tunnel.backendsForAgents()) {
        backend.drain(Backend.SHUTTING_DOWN, false);
      }
    }
  }

  /**
   * See {@link Tunnel#close(Duration)}: drains, waits for the exchanges left or the grace, then
   * cuts what still streams. False, at once, when an earlier call did.
   */
  boolean close(Duration grace) {
    if (!closeCalled.compareAndSet(false, true)) {
      return false;
    }
    beginClose(grace);
    awaitNoExchanges(closeGraceEnds.get());
    cutAfterCloseGrace();
    return true;
  }

  /** See {@link Tunnel#beginClose(Duration)}. */
  void beginClose(Duration grace) {
    if (!closeGraceEnds.compareAndSet(null, tunnel.nanoTime() + grace.toNanos())) {
      return;
    }
    phase.set(Tunnel.Phase.DRAINING);
    tunnel.releaseHeldRequests();
    LOG.info(
        () -> "Drawbridge proxy draining: new and queued requests get 503, agents are told to reconnect later,"
            + " responses in flight get up to " + grace.toSeconds() + " s to finish");
    for (Backend backend : tunnel.backendsForAgents()) {
      backend.drain();
    }
    for (Exchange exchange : List.copyOf(exchanges)) {
      // An upgraded connection (a WebSocket) has no end to wait for: it is closed at once.
      if (exchange.state() != ExchangeState.RESPONDING || exchange.isUpgrade()) {
        exchange.backend().refuseShuttingDown(exchange);
      }
    }
  }

  /** See {@link Tunnel#drainWhenContainerStops}. */
  void drainWhenContainerStops(BooleanSupplier stopping) {
    containerStopping = stopping;
  }

  /** See {@link Tunnel#containerStopBegan}. */
  boolean containerStopBegan() {
    return containerStopSeen;
  }

  /** On every sweep: begins the drain once the container stops, and ends the drain's grace. */
  void checkStop(long now) {
    Long graceEnds = closeGraceEnds.get();
    if (graceEnds == null) {
      if (containerStopping.getAsBoolean()) {
        containerStopSeen = true;
        LOG.info("The container began stopping the web application");
        beginClose(tunnel.settings().drainGrace());
      }
    } else if (now - graceEnds >= 0) {
      cutAfterCloseGrace();
    }
  }

  /** The last live exchange ended: a {@link #close} waiting for that may go on. */
  void lastExchangeEnded() {
    synchronized (drained) {
      drained.notifyAll();
    }
  }

  /** Cuts, once, the responses still streaming after the stop's drain grace. */
  private void cutAfterCloseGrace() {
    List<Exchange> left = List.copyOf(exchanges);
    if (left.isEmpty() || !closeGraceCut.compareAndSet(false, true)) {
      return;
    }
    LOG.warning(
        () -> left.size() + " responses were still streaming when the drain grace ended and are cut; raise"
            + " drainGraceSeconds to let longer ones finish.");
    for (Exchange exchange : left) {
      exchange.backend().refuseShuttingDown(exchange);
    }
  }

  /**
   * Waits until no exchange is left or the tunnel's clock reached {@code deadline}. It looks at the
   * clock at least every sweep interval, so a test clock moved forward ends the wait too.
   */
  private void awaitNoExchanges(long deadline) {
    synchronized (drained) {
      long left;
      while (!exchanges.isEmpty() && (left = deadline - tunnel.nanoTime()) > 0) {
        try {
          TimeUnit.NANOSECONDS.timedWait(drained, Math.min(left, sliceNanos));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }
}
