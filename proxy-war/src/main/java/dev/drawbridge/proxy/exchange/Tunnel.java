package dev.drawbridge.proxy.exchange;

import dev.drawbridge.proxy.config.ProxySettings;
import dev.drawbridge.proxy.net.ClosedConnections;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The running proxy core: backends, the registry of live exchanges, and the reaper that enforces
 * every deadline. One per deployed WAR; {@link #apply} takes a reloaded configuration while
 * traffic flows, {@link #close()} drains it.
 *
 * <p>Every deadline, grace period and age is read from one nanosecond clock ({@link #nanoTime()}):
 * {@link System#nanoTime()} in production, a clock the test moves in unit tests, which also sweep
 * themselves ({@link #sweep()}) instead of running the reaper thread, so no test races the wall clock.
 */
public final class Tunnel implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(Tunnel.class.getName());

  /** How often the reaper checks deadlines; bounds how late a timeout can fire. */
  private static final long SWEEP_MILLIS = 100;

  private final RunningConfig config;
  private final ConcurrentHashMap<String, Exchange> exchanges = new ConcurrentHashMap<>();
  private final LongSupplier nanoClock;
  /** Null when the caller sweeps itself (unit tests). */
  private final ScheduledExecutorService reaper;
  /** The reaper's thread (a new one should it ever die), so that {@link #close} can wait for its end. */
  private final List<Thread> reaperThreads = new CopyOnWriteArrayList<>();
  private final AccessLog accessLog = new AccessLog();
  private final ConcurrentHashMap<String, Long> recentlyEnded = new ConcurrentHashMap<>();
  private final RecentActivity recentActivity = new RecentActivity();
  private final List<Consumer<EndedExchange>> endListeners = new CopyOnWriteArrayList<>();
  private final Instant startedAt = Instant.now();
  private final AbandonedClients abandonedClients;
  private final HeldAfterAnswer heldAfterAnswer = new HeldAfterAnswer();

  /**
   * Where this node is in leaving its load balancer:
   *
   * <pre>
   *   SERVING --drain call--> LEAVING --drainDelaySeconds--> DRAINING
   *      \---------------undeploy (close)-------------------/
   * </pre>
   *
   * Readiness answers 503 from LEAVING on, while the node still takes work; only in DRAINING are
   * agents told and new requests refused.
   */
  public enum Phase {
    SERVING,
    LEAVING,
    DRAINING
  }

  private final NodeDrain drain;

  /** How long ids of exchanges that ended early are remembered for late agent calls. */
  private static final Duration REMEMBER_ENDED = Duration.ofMinutes(2);

  /** A tunnel on the system clock whose reaper thread sweeps every {@link #SWEEP_MILLIS}. */
  public Tunnel(ProxySettings settings) {
    this(settings, System::nanoTime, true, ClosedConnections.ofThisSystem());
  }

  /** A tunnel that learns of clients that closed their connections from {@code closedConnections}. */
  public Tunnel(ProxySettings settings, ClosedConnections closedConnections) {
    this(settings, System::nanoTime, true, closedConnections);
  }

  /**
   * A tunnel that reads time from {@code nanoClock} and sweeps only when {@link #sweep()} is
   * called: for tests, which move the clock and sweep when they choose.
   */
  Tunnel(ProxySettings settings, LongSupplier nanoClock) {
    this(settings, nanoClock, false, ClosedConnections.NONE);
  }

  private Tunnel(ProxySettings settings, LongSupplier nanoClock, boolean startReaper, ClosedConnections closedConnections) {
    this.nanoClock = nanoClock;
    this.abandonedClients = new AbandonedClients(closedConnections);
    this.config = new RunningConfig(settings, this);
    if (startReaper) {
      this.reaper =
          Executors.newSingleThreadScheduledExecutor(
              task -> {
                Thread thread = new Thread(task, "drawbridge-reaper");
                thread.setDaemon(true);
                reaperThreads.add(thread);
                return thread;
              });
      reaper.scheduleWithFixedDelay(this::sweep, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    } else {
      this.reaper = null;
    }
    this.drain = new NodeDrain(this, exchanges.values(), reaper, SWEEP_MILLIS);
  }

  /** Now on the tunnel's clock, in nanoseconds: the time base of every deadline and age. */
  public long nanoTime() {
    return nanoClock.getAsLong();
  }

  /** The running configuration, replaced whole by {@link #apply}. */
  public ProxySettings settings() {
    return config.settings();
  }

  /**
   * The backend with this id, or null. A backend a reload just removed is still found while its
   * exchanges finish: it refuses new requests with 503 and {@code Retry-After}.
   */
  public Backend backend(String id) {
    return config.backend(id);
  }

  /** The backends of the running configuration, in configuration order. */
  public Collection<Backend> backends() {
    return config.backends();
  }

  /** The running backends and those a reload removed that still finish their exchanges. */
  public List<Backend> backendsForAgents() {
    return config.backendsForAgents();
  }

  /** Told when a reload adds or removes a backend, e.g. to register its metrics. */
  public interface BackendListener {
    void added(Backend backend);

    void removed(Backend backend);
  }

  public void addBackendListener(BackendListener listener) {
    config.addListener(listener);
  }

  public void removeBackendListener(BackendListener listener) {
    config.removeListener(listener);
  }

  /**
   * Runs with {@code next} from now on, without touching exchanges in flight:
   *
   * <ul>
   *   <li>new backends take requests at once; kept ones take their new limits for new requests;
   *   <li>a removed backend refuses its queued and new requests with 503 and {@code Retry-After},
   *       tells its waiting agents to go away, and lets exchanges already at its agents finish
   *       for {@code drainGraceSeconds}, after which those still running are cut;
   *   <li>agents whose token a backend no longer lists lose their held polls at once, and their
   *       next call is refused by the token check, which always reads the running configuration.
   * </ul>
   */
  public void apply(ProxySettings next) {
    // A node that drains takes no work, whichever backends a reload brings.
    config.apply(next, drain.phase() == Phase.DRAINING);
  }

  /** The live exchange with this id, or null when unknown or already ended. */
  public Exchange exchange(String id) {
    return exchanges.get(id);
  }

  /** Number of live exchanges, queued or in flight. */
  public int liveExchanges() {
    return exchanges.size();
  }

  void register(Exchange exchange) {
    exchanges.put(exchange.id(), exchange);
  }

  void unregister(Exchange exchange) {
    if (exchanges.remove(exchange.id(), exchange)) {
      if (exchanges.isEmpty()) {
        drain.lastExchangeEnded();
      }
      if (exchange.state() != ExchangeState.COMPLETED) {
        recentlyEnded.put(exchange.id(), nanoTime());
      }
      accessLog.log(exchange);
      tellEnded(exchange);
    }
  }

  /** Feeds the operator's views. They only observe: a failure there must not undo the freeing. */
  private void tellEnded(Exchange exchange) {
    try {
      EndedExchange ended = EndedExchange.of(exchange);
      recentActivity.record(ended);
      for (Consumer<EndedExchange> listener : endListeners) {
        listener.accept(ended);
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "Recording the end of " + exchange + " for the admin page or metrics failed; their numbers may be incomplete", e);
    }
  }

  /** Tells {@code listener} of every exchange that ends from now on, on the thread that ended it. */
  public void addEndListener(Consumer<EndedExchange> listener) {
    endListeners.add(listener);
  }

  /** Stops telling {@code listener}. */
  public void removeEndListener(Consumer<EndedExchange> listener) {
    endListeners.remove(listener);
  }

  /** The last few minutes of ended exchanges and failures, for the admin page. */
  public RecentActivity recentActivity() {
    return recentActivity;
  }

  /** When this tunnel started. */
  public Instant startedAt() {
    return startedAt;
  }

  /**
   * True when the id belonged to an exchange that ended without completing in the last {@link
   * #REMEMBER_ENDED}, so a late agent call can be told 410 rather than 404.
   */
  public boolean endedRecently(String id) {
    return recentlyEnded.containsKey(id);
  }

  /** Where this node is in leaving its load balancer. */
  public Phase phase() {
    return drain.phase();
  }

  /**
   * An operator's drain, so that the node can be stopped without failing a request: readiness
   * answers 503 from now on while the node keeps taking work for {@code drainDelaySeconds}, long
   * enough for the load balancer to take it out; then agents are told on every poll answer, new
   * requests get 503, and requests already queued or in flight finish. False when a drain or a
   * stop had begun already.
   */
  public boolean leave() {
    return drain.leave();
  }

  /**
   * Holds a client's request, known by {@code key}, open after its answer while the rest of its
   * body is read and dropped; {@code bytesRead} counts that body so far. {@code release} lets the
   * request go when its body stays idle, when it was held long enough, or when the proxy drains
   * (see {@link HeldAfterAnswer}); a draining proxy lets it go at once. Runs {@code release} at
   * most once, on the reaper's thread or the draining one.
   */
  public void holdAfterAnswer(Object key, LongSupplier bytesRead, Runnable release) {
    if (drain.phase() == Phase.DRAINING) {
      release.run();
      return;
    }
    heldAfterAnswer.hold(key, nanoTime(), bytesRead, release);
    if (drain.phase() == Phase.DRAINING) {
      // The drain began meanwhile and may have let the others go already.
      heldAfterAnswer.releaseAll();
    }
  }

  /** The request held by {@code key} ended on its own: its body was read, or its client is gone. */
  public void heldRequestEnded(Object key) {
    heldAfterAnswer.forget(key);
  }

  /** Lets go of every request held after its answer; the drain calls it as it begins. */
  void releaseHeldRequests() {
    heldAfterAnswer.releaseAll();
  }

  /** Ends whatever passed its deadline; the reaper calls it every {@link #SWEEP_MILLIS}. */
  void sweep() {
    try {
      long now = nanoTime();
      for (Exchange exchange : exchanges.values()) {
        Deadlines.check(exchange, now);
      }
      for (Backend backend : backendsForAgents()) {
        backend.sweep(now);
      }
      abandonedClients.sweep(now, exchanges.values());
      heldAfterAnswer.sweep(now);
      config.cutRetired(now, exchanges.values());
      drain.checkStop(now);
      long forgetBefore = now - REMEMBER_ENDED.toNanos();
      recentlyEnded.values().removeIf(ended -> ended - forgetBefore < 0);
    } catch (RuntimeException | Error e) {
      // A failed sweep must not end the schedule: every later deadline depends on it.
      LOG.log(Level.SEVERE, "Deadline sweep failed; it will run again", e);
    }
  }

  /**
   * Drains, as the web application stops: stops taking work (queued requests get 503 with {@code
   * Retry-After}, waiting polls are told the proxy is draining), answers 503 at once to every
   * exchange whose response has not started, lets responses already streaming finish for up to
   * {@code grace}, then cuts whatever still streams and stops the reaper.
   *
   * <p>An exchange still at its agent is not given the grace: a container stopping a web
   * application no longer dispatches new calls to it, so the agent's answer could never arrive and
   * the client would only wait longer for the same 503. Only the first call drains.
   */
  public void close(Duration grace) {
    if (!drain.close(grace) || reaper == null) {
      return;
    }
    reaper.shutdownNow();
    // Until the thread itself has ended, not only the executor: a terminated executor's thread may
    // still be exiting, and Tomcat looks for threads the application left right after the drain.
    try {
      for (Thread thread : reaperThreads) {
        thread.join(TimeUnit.SECONDS.toMillis(5));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Begins the drain of {@link #close(Duration)} and returns at once: from now on new and queued
   * requests get 503, agents are told, every exchange whose response has not started gets 503,
   * and the sweep cuts responses still streaming once {@code grace} has passed. Only the first
   * call begins; a later {@link #close} waits for the grace it set.
   */
  public void beginClose(Duration grace) {
    drain.beginClose(grace);
  }

  /**
   * Lets the sweep begin the drain as soon as {@code stopping} says the container began stopping
   * the web application, before it tells the application: Tomcat first waits for the
   * application's asynchronous requests to end (up to the context's {@code unloadDelay}), and then
   * times out whatever is left, streams included, within a second.
   */
  public void drainWhenContainerStops(BooleanSupplier stopping) {
    drain.drainWhenContainerStops(stopping);
  }

  /**
   * True once the container began stopping the web application, as {@link
   * #drainWhenContainerStops} lets it tell: Tomcat then no longer maps requests to it, so an
   * asynchronous request cannot be dispatched back to it any more.
   */
  public boolean containerStopBegan() {
    return drain.containerStopBegan();
  }

  /** Drains with the configured {@code drainGraceSeconds}. */
  @Override
  public void close() {
    close(settings().drainGrace());
  }
}
