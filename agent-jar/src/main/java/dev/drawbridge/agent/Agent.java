package dev.drawbridge.agent;

import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.RequestHead;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
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
 * A running agent: on every proxy node ({@link ProxyNodes}), {@code --polls} pollers that fetch
 * work, and one worker pool of {@code --concurrency} threads that run each {@link Exchange}, whose
 * slots all nodes share ({@link Capacity}). Embeddable: tests create one, {@link #start()} it and
 * {@link #close()} it; {@link Main} adds only flags, logging and signals.
 */
public final class Agent implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(Agent.class.getName());

  /** How long stopping the worker pool may take after its exchanges were aborted. */
  private static final long WORKER_STOP_MILLIS = 5_000;

  private final AgentConfig config;
  /** This agent's process instance: the proxy tells a restarted agent from its predecessor by it. */
  private final String instance;
  private final Capacity capacity;
  private final TokenSource token;
  private final ProxyNodes nodes;
  private final CloseableHttpClient backendClient;
  private final HttpHost target;
  private final BackendHealth health;
  private final UpgradedConnections upgraded;
  private final Keepalives keepalives;
  private final ThreadPoolExecutor workers;
  private final Map<String, Exchange> exchanges = new ConcurrentHashMap<>();
  /**
   * The threads that carry the poll loops. A loop whose poll brought work hands itself to another
   * of these and runs the last exchange it got on the thread it is on (see {@link Poller}), so
   * these also run exchanges.
   */
  private final ThreadPoolExecutor carriers;
  private final CountDownLatch stopSignal = new CountDownLatch(1);
  private final CompletableFuture<Throwable> fatal = new CompletableFuture<>();
  private volatile boolean draining;
  private boolean started;
  private boolean drained;

  public Agent(AgentConfig config) {
    this(config, NodeResolver.system(config.transport().egressProxy() != null));
  }

  /** An agent finding its proxy nodes with {@code resolver}, for tests. */
  Agent(AgentConfig config, NodeResolver resolver) {
    this.config = config;
    this.instance = ClientFactory.newInstance();
    this.capacity = new Capacity(config.concurrency(), config.polls());
    this.token = TokenSource.of(config);
    this.nodes = new ProxyNodes(config.proxies(), config.backend(), resolver,
        config.transport().resolveInterval(), this::link, this::startPolling, this::letGo);
    this.backendClient = ClientFactory.backendClient(config);
    this.target = config.targetHost();
    this.health = new BackendHealth(config);
    this.keepalives = new Keepalives(config.transport().keepaliveInterval(), "drawbridge-keepalive");
    this.upgraded = new UpgradedConnections(UpgradedConnections.DEFAULT_MAX, keepalives);
    this.workers = new ThreadPoolExecutor(config.concurrency(), config.concurrency(), 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), threads("drawbridge-exchange-"));
    // Idle agents keep no worker threads.
    workers.allowCoreThreadTimeOut(true);
    this.carriers = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
        new SynchronousQueue<>(), threads("drawbridge-poll-"));
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
        + " via proxy " + String.join(", ", config.proxies().stream().map(URI::toString).toList())
        + ", concurrency " + config.concurrency() + " shared by all proxy nodes"
        + ", names looked up again every " + Durations.format(config.transport().resolveInterval()));
    health.onChange(() -> nodes.links().forEach(NodeLink::healthChanged));
    nodes.start();
    health.start();
  }

  private NodeLink link(ProxyNode node) {
    return new NodeLink(config, node, token, instance, nodes, nodes::report);
  }

  private void startPolling(NodeLink link) {
    link.start(this, config, capacity, health, carriers);
  }

  /** The node left DNS: no more polls to it; its exchanges finish, then its connections close. */
  private void letGo(NodeLink link) {
    try {
      link.finishPolling(capacity, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(NodeLink.POLLER_STOP_MILLIS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    link.detach();
  }

  /**
   * Runs {@code clientRequest}, fetched from {@code node}, on a worker; {@code holdsSlot} says
   * whether it returns a capacity slot when done.
   */
  void dispatch(RequestHead clientRequest, boolean holdsSlot, NodeLink node) {
    if (clientRequest.wantsUpgrade()) {
      dispatchUpgrade(clientRequest, holdsSlot, node);
      return;
    }
    Runnable run = prepare(clientRequest, holdsSlot, node);
    if (run == null) {
      return;
    }
    try {
      workers.execute(run);
    } catch (RejectedExecutionException e) {
      abandon(clientRequest.id(), holdsSlot, node);
    }
  }

  /**
   * Registers {@code clientRequest}, an ordinary exchange (not a protocol switch), and returns
   * what runs it, for the caller's own thread; null when it is not to run (delivered twice).
   */
  Runnable prepare(RequestHead clientRequest, boolean holdsSlot, NodeLink node) {
    Exchange exchange = new Exchange(
        clientRequest, config, node.proxyClient(), node.batcher(), backendClient, target, draining, keepalives);
    String id = exchange.id();
    if (exchanges.putIfAbsent(id, exchange) != null) {
      LOG.warning("exchange " + id + ": delivered twice by the proxy; ignoring the second copy");
      capacity.release(holdsSlot ? 1 : 0);
      return null;
    }
    node.exchangeStarted();
    Runnable ended = () -> {
      exchanges.remove(id, exchange);
      capacity.release(holdsSlot ? 1 : 0);
      node.exchangeEnded();
    };
    return () -> exchange.run(ended);
  }

  /** A prepared exchange that cannot run because the agent has stopped. */
  private void abandon(String id, boolean holdsSlot, NodeLink node) {
    exchanges.remove(id);
    capacity.release(holdsSlot ? 1 : 0);
    node.exchangeEnded();
    LOG.warning("exchange " + id + ": dropped because the agent has stopped; the proxy will time it out");
  }

  /**
   * Runs a handshake on a worker, holding a slot only until the backend answered: an open upgraded
   * connection holds neither a slot nor a worker. It lives on {@code node}, which delivered it.
   */
  private void dispatchUpgrade(RequestHead clientRequest, boolean holdsSlot, NodeLink node) {
    UpgradeExchange exchange = new UpgradeExchange(clientRequest, config, node.proxyClient(), upgraded);
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

  /** {@code node} says {@code id} is over (client gone, timeout): stop working on it. */
  void cancel(String id, NodeLink node) {
    if (upgraded.cancel(id)) {
      LOG.fine("exchange " + id + ": upgraded connection closed by the proxy");
      return;
    }
    Exchange exchange = exchanges.get(id);
    if (exchange != null && exchange.from(node.proxyClient())) {
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

  /** True while at least one proxy node's last poll succeeded. */
  public boolean isConnected() {
    return nodes.connected() > 0;
  }

  /** The proxy nodes and their states, as reported to each node. */
  String nodesReport() {
    return nodes.report();
  }

  /** True once {@link #drain()} has begun. */
  public boolean isDraining() {
    return draining;
  }

  /**
   * Stops polling every node (each node is told first, see {@link ProxyNodes#finishPolling}) and
   * lets exchanges in flight finish for up to {@code --drain-timeout}; the rest are aborted. Returns
   * how many finished.
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
      nodes.finishPolling(capacity);
      int inFlight = Math.max(inFlightAtStart, exchanges.size());
      // Logged in every case: from here a successor under the same --agent-id may start beside it.
      LOG.info("Stopping: the proxy hands this agent no more requests; waiting up to "
          + Durations.format(config.drainTimeout()) + " for " + inFlight
          + (inFlight == 1 ? " request" : " requests") + " in flight");
      // Every poll loop has ended; their carriers only finish the exchanges they took.
      workers.shutdown();
      carriers.shutdown();
      long deadline = System.nanoTime() + config.drainTimeout().toNanos();
      boolean finished = workers.awaitTermination(config.drainTimeout().toNanos(), TimeUnit.NANOSECONDS);
      if (finished) {
        // Exchanges still running on carriers send plain batches from here.
        nodes.finishStreams(deadline);
        finished = carriers.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      }
      if (finished) {
        return inFlight;
      }
      int abandoned = exchanges.size();
      LOG.warning("Drain timeout of " + Durations.format(config.drainTimeout()) + " passed; aborting "
          + abandoned + " requests still in flight (raise --drain-timeout to wait longer)");
      exchanges.values().forEach(Exchange::cancel);
      workers.shutdownNow();
      carriers.shutdownNow();
      workers.awaitTermination(WORKER_STOP_MILLIS, TimeUnit.MILLISECONDS);
      carriers.awaitTermination(WORKER_STOP_MILLIS, TimeUnit.MILLISECONDS);
      return Math.max(0, inFlight - abandoned);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      workers.shutdownNow();
      carriers.shutdownNow();
      return 0;
    }
  }

  /** Drains, then closes both HTTP clients. */
  @Override
  public void close() {
    drain();
    nodes.close();
    keepalives.close();
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
