package dev.drawbridge.agent;

import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.RequestHead;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.io.CloseMode;

/**
 * A running agent: {@code --polls} pollers that fetch work from the proxy, and a worker pool of
 * {@code --concurrency} threads that run each {@link Exchange}. Embeddable: tests create one,
 * {@link #start()} it and {@link #close()} it; {@link Main} adds only flags, logging and signals.
 */
public final class Agent implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(Agent.class.getName());

  /** How long stopping pollers may take; they only wait on cancelled calls by then. */
  private static final long POLLER_STOP_MILLIS = 5_000;

  private final AgentConfig config;
  /** This agent's process instance: the proxy tells a restarted agent from its predecessor by it. */
  private final String instance;
  private final ProxyLink proxyLink;
  private final Capacity capacity;
  private final ProxyClient proxyClient;
  private final ResponseBatcher batcher;
  private final CloseableHttpClient backendClient;
  private final HttpHost target;
  private final BackendHealth health;
  private final UpgradedConnections upgraded;
  private final ThreadPoolExecutor workers;
  private final Map<String, Exchange> exchanges = new ConcurrentHashMap<>();
  private final List<Poller> pollers = new ArrayList<>();
  private final List<Thread> pollerThreads = new ArrayList<>();
  private final CountDownLatch stopSignal = new CountDownLatch(1);
  private final CompletableFuture<Throwable> fatal = new CompletableFuture<>();
  private volatile boolean draining;
  private boolean started;
  private boolean drained;

  public Agent(AgentConfig config) {
    this.config = config;
    this.proxyLink = new ProxyLink(config);
    this.capacity = new Capacity(config.concurrency());
    this.instance = ClientFactory.newInstance();
    this.proxyClient = new ProxyClient(config, instance);
    // The call ahead of a response may take a whole proxy timeout, and so may its own.
    this.batcher = new ResponseBatcher(proxyClient::sendBatch, config.proxyTimeout().multipliedBy(2));
    this.backendClient = ClientFactory.backendClient(config);
    this.target = new HttpHost(config.target().getScheme(), config.target().getHost(), config.target().getPort());
    this.health = new BackendHealth(config);
    this.upgraded = new UpgradedConnections(UpgradedConnections.DEFAULT_MAX, proxyClient);
    this.workers = new ThreadPoolExecutor(config.concurrency(), config.concurrency(), 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), threads("drawbridge-exchange-"));
    // Idle agents keep no worker threads.
    workers.allowCoreThreadTimeOut(true);
  }

  public AgentConfig config() {
    return config;
  }

  /** Starts polling. */
  public synchronized void start() {
    if (started) {
      throw new IllegalStateException("agent already started");
    }
    started = true;
    LOG.info("Drawbridge agent " + Protocol.SOFTWARE_VERSION + " (protocol " + Protocol.VERSION + "): agent "
        + config.agentId() + " (process " + instance.substring(0, 8) + ") serving backend " + config.backend() + " -> target " + config.target()
        + " via proxy " + config.proxy() + ", concurrency " + config.concurrency());
    ThreadFactory pollerThreadFactory = threads("drawbridge-poll-");
    // One extra poller only listens: it keeps the agent visible to the proxy when all slots are busy.
    for (int i = 0; i <= config.polls(); i++) {
      Poller poller =
          new Poller(this, proxyClient, capacity, proxyLink, config.maxBackoff(), i == config.polls(), health);
      Thread thread = pollerThreadFactory.newThread(poller);
      pollers.add(poller);
      pollerThreads.add(thread);
      thread.start();
    }
    health.onChange(() -> pollers.forEach(Poller::healthChanged));
    health.start();
  }

  /** Runs {@code clientRequest} on a worker; {@code holdsSlot} says whether it returns a capacity slot when done. */
  void dispatch(RequestHead clientRequest, boolean holdsSlot) {
    if (clientRequest.wantsUpgrade()) {
      dispatchUpgrade(clientRequest, holdsSlot);
      return;
    }
    Exchange exchange = new Exchange(clientRequest, config, proxyClient, batcher, backendClient, target, draining);
    String id = exchange.id();
    if (exchanges.putIfAbsent(id, exchange) != null) {
      LOG.warning("exchange " + id + ": delivered twice by the proxy; ignoring the second copy");
      capacity.release(holdsSlot ? 1 : 0);
      return;
    }
    try {
      workers.execute(() -> {
        try {
          exchange.run();
        } finally {
          exchanges.remove(id, exchange);
          capacity.release(holdsSlot ? 1 : 0);
        }
      });
    } catch (RejectedExecutionException e) {
      exchanges.remove(id, exchange);
      capacity.release(holdsSlot ? 1 : 0);
      LOG.warning("exchange " + id + ": dropped because the agent has stopped; the proxy will time it out");
    }
  }

  /**
   * Runs a handshake on a worker, holding a slot only until the backend answered: an open upgraded
   * connection holds neither a slot nor a worker.
   */
  private void dispatchUpgrade(RequestHead clientRequest, boolean holdsSlot) {
    UpgradeExchange exchange = new UpgradeExchange(clientRequest, config, proxyClient, upgraded);
    boolean agentDraining = draining;
    try {
      workers.execute(() -> {
        try {
          exchange.run(agentDraining);
        } finally {
          capacity.release(holdsSlot ? 1 : 0);
        }
      });
    } catch (RejectedExecutionException e) {
      capacity.release(holdsSlot ? 1 : 0);
      LOG.warning("exchange " + clientRequest.id() + ": dropped because the agent has stopped; the proxy will time it out");
    }
  }

  /** Upgraded connections (WebSockets) open now. */
  public int upgradedConnections() {
    return upgraded.openCount();
  }

  /** The proxy says {@code id} is over (client gone, timeout): stop working on it. */
  void cancel(String id) {
    if (upgraded.cancel(id)) {
      LOG.fine("exchange " + id + ": upgraded connection closed by the proxy");
      return;
    }
    Exchange exchange = exchanges.get(id);
    if (exchange != null) {
      LOG.fine("exchange " + id + ": cancelled by the proxy");
      exchange.cancel();
    }
  }

  /** Waits {@code wait}, or less when the agent stops. */
  void awaitStop(Duration wait) throws InterruptedException {
    stopSignal.await(wait.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A poller died of a bug; {@link #awaitFatal()} returns it so that {@link Main} can exit 1. */
  void fatal(Throwable failure) {
    LOG.log(Level.SEVERE, "Poller failed unexpectedly; stopping the agent", failure);
    fatal.complete(failure);
  }

  /** Blocks until an unrecoverable error happens, and returns it. */
  public Throwable awaitFatal() throws InterruptedException {
    try {
      return fatal.get();
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  /** Exchanges in flight now. */
  public int inFlight() {
    return exchanges.size();
  }

  /** True once a poll succeeded and no later one failed. */
  public boolean isConnected() {
    return proxyLink.state() == ProxyLink.State.CONNECTED;
  }

  /** True once {@link #drain()} has begun. */
  public boolean isDraining() {
    return draining;
  }

  /**
   * Stops polling (the proxy is told first, see {@link #finishPollers}) and lets exchanges in
   * flight finish for up to {@code --drain-timeout}; the rest are aborted. Returns how many
   * finished.
   */
  public synchronized int drain() {
    if (drained) {
      return 0;
    }
    drained = true;
    // Counted before the pollers stop: an exchange may finish while they do, and still counts.
    int inFlightAtStart = exchanges.size();
    draining = true;
    stopSignal.countDown();
    health.close();
    // An upgraded connection has no end to wait for; its client sees it close and reconnects.
    upgraded.close();
    try {
      finishPollers();
      int inFlight = Math.max(inFlightAtStart, exchanges.size());
      // Logged in every case: from here a successor under the same --agent-id may start beside it.
      LOG.info("Stopping: the proxy hands this agent no more requests; waiting up to "
          + Durations.format(config.drainTimeout()) + " for " + inFlight
          + (inFlight == 1 ? " request" : " requests") + " in flight");
      workers.shutdown();
      if (workers.awaitTermination(config.drainTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        return inFlight;
      }
      int abandoned = exchanges.size();
      LOG.warning("Drain timeout of " + Durations.format(config.drainTimeout()) + " passed; aborting "
          + abandoned + " requests still in flight (raise --drain-timeout to wait longer)");
      exchanges.values().forEach(Exchange::cancel);
      workers.shutdownNow();
      workers.awaitTermination(POLLER_STOP_MILLIS, TimeUnit.MILLISECONDS);
      return Math.max(0, inFlight - abandoned);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      workers.shutdownNow();
      return 0;
    }
  }

  /**
   * Ends the pollers without cutting a poll that may carry requests: such requests would be lost
   * to both sides until the proxy's response timeout. The goodbye goes first: the proxy then hands
   * this agent no more work and answers its held polls at once; each poller reads its last answer,
   * passes on what it got (a draining agent refuses it with 503) and ends. Pollers waiting for a
   * slot are woken; one still in a call after {@link #POLLER_STOP_MILLIS} (a proxy that does not
   * answer) is cut.
   */
  private void finishPollers() throws InterruptedException {
    pollers.forEach(Poller::finish);
    proxyClient.leave();
    for (int i = 0; i < pollers.size(); i++) {
      if (!pollers.get(i).inCall()) {
        pollerThreads.get(i).interrupt();
      }
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(POLLER_STOP_MILLIS);
    for (Thread thread : pollerThreads) {
      thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
    }
    for (int i = 0; i < pollers.size(); i++) {
      Thread thread = pollerThreads.get(i);
      if (thread.isAlive()) {
        pollers.get(i).stop();
        thread.interrupt();
        thread.join(POLLER_STOP_MILLIS);
      }
    }
  }

  /** Drains, then closes both HTTP clients. */
  @Override
  public void close() {
    drain();
    proxyClient.close();
    backendClient.close(CloseMode.IMMEDIATE);
  }

  private static ThreadFactory threads(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return task -> {
      Thread thread = new Thread(task, prefix + count.incrementAndGet());
      thread.setDaemon(false);
      return thread;
    };
  }
}
