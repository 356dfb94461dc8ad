package dev.drawbridge.agent;

import dev.drawbridge.protocol.AgentNodes;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The proxy nodes one agent attaches to: every address of every {@code --proxy} URL, looked up
 * again every {@code --resolve-interval} so that the agent attaches to a node added to DNS and
 * lets go of one removed from it. A name that fails to resolve keeps the nodes it had: a DNS outage
 * must not detach a working agent. Logs the node list whenever it changes.
 */
final class ProxyNodes implements ProxyLink.Attachments, AutoCloseable {

  private static final Logger LOG = Logger.getLogger(ProxyNodes.class.getName());

  /** First retry after a name that has no node yet failed to resolve; doubles up to the interval. */
  private static final Duration FIRST_RETRY = Duration.ofSeconds(1);

  private final List<URI> urls;
  private final String backend;
  private final NodeResolver resolver;
  private final Duration interval;
  private final Function<ProxyNode, NodeLink> create;
  private final Consumer<NodeLink> start;
  private final Consumer<NodeLink> detach;
  private final Map<URI, List<ProxyNode>> resolved = new LinkedHashMap<>();
  private final Map<URI, String> lookupFailures = new LinkedHashMap<>();
  private final Map<ProxyNode, NodeLink> links = new LinkedHashMap<>();
  private final ScheduledExecutorService timer;
  private volatile List<NodeLink> current = List.of();
  private Duration retry = FIRST_RETRY;
  private boolean stopped;

  /**
   * @param create makes the link to a new node
   * @param start starts polling through a new link
   * @param detach stops polling a node that left and lets its link close once its exchanges end
   */
  ProxyNodes(
      List<URI> urls,
      String backend,
      NodeResolver resolver,
      Duration interval,
      Function<ProxyNode, NodeLink> create,
      Consumer<NodeLink> start,
      Consumer<NodeLink> detach) {
    this.urls = List.copyOf(urls);
    this.backend = backend;
    this.resolver = resolver;
    this.interval = interval;
    this.create = create;
    this.start = start;
    this.detach = detach;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "drawbridge-resolve-" + backend);
              thread.setDaemon(true);
              return thread;
            });
  }

  /** Resolves every URL now, attaches to what it finds, and schedules the next lookups. */
  void start() {
    refresh();
  }

  /** The links now, in the order the names resolved. */
  List<NodeLink> links() {
    return current;
  }

  @Override
  public int connected() {
    int count = 0;
    for (NodeLink link : current) {
      if (link.link().state() == ProxyLink.State.CONNECTED) {
        count++;
      }
    }
    return count;
  }

  @Override
  public int total() {
    return current.size();
  }

  /**
   * What the agent tells each node about all of them ({@code Drawbridge-Agent-Nodes}), e.g. {@code
   * 10.0.0.5:443=connected,10.0.0.6:443=failing}.
   */
  String report() {
    List<AgentNodes.Entry> report = new ArrayList<>();
    for (NodeLink link : current) {
      report.add(new AgentNodes.Entry(link.node().label(), stateName(link.link().state())));
    }
    return AgentNodes.format(report);
  }

  static String stateName(ProxyLink.State state) {
    return state == ProxyLink.State.PROXY_DRAINING ? "draining" : state.name().toLowerCase(Locale.ROOT);
  }

  private void refresh() {
    boolean missing;
    synchronized (this) {
      if (stopped) {
        return;
      }
      for (URI url : urls) {
        lookUp(url);
      }
      apply();
      missing = resolved.size() < urls.size();
      Duration next = interval;
      if (missing) {
        next = retry.compareTo(interval) < 0 ? retry : interval;
        retry = retry.multipliedBy(2);
      } else {
        retry = FIRST_RETRY;
      }
      timer.schedule(this::refreshQuietly, next.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void refreshQuietly() {
    try {
      refresh();
    } catch (RuntimeException e) {
      LOG.warning("Looking up the proxy nodes failed (" + e + "); trying again in " + Durations.format(interval));
      synchronized (this) {
        if (!stopped) {
          timer.schedule(this::refreshQuietly, interval.toMillis(), TimeUnit.MILLISECONDS);
        }
      }
    }
  }

  private void lookUp(URI url) {
    List<ProxyNode> nodes;
    try {
      nodes = resolver.nodes(url);
    } catch (UnknownHostException e) {
      String why = Reasons.describe(e);
      List<ProxyNode> kept = resolved.getOrDefault(url, List.of());
      if (!why.equals(lookupFailures.put(url, why))) {
        LOG.warning("Cannot look up the proxy nodes of " + url + " (" + why + "); "
            + (kept.isEmpty() ? "retrying soon" : "keeping its " + kept.size() + " known nodes")
            + "; check the name and the DNS server");
      }
      return;
    }
    if (lookupFailures.remove(url) != null) {
      LOG.info("The proxy nodes of " + url + " resolve again");
    }
    resolved.put(url, nodes);
  }

  /** Attaches to nodes that appeared, lets go of nodes that disappeared, and logs the list. */
  private void apply() {
    Set<ProxyNode> wanted = new LinkedHashSet<>();
    for (List<ProxyNode> nodes : resolved.values()) {
      wanted.addAll(nodes);
    }
    List<ProxyNode> added = new ArrayList<>();
    List<NodeLink> removed = new ArrayList<>();
    for (Map.Entry<ProxyNode, NodeLink> entry : List.copyOf(links.entrySet())) {
      if (!wanted.contains(entry.getKey())) {
        links.remove(entry.getKey());
        removed.add(entry.getValue());
      }
    }
    for (ProxyNode node : wanted) {
      if (!links.containsKey(node)) {
        added.add(node);
      }
    }
    if (added.isEmpty() && removed.isEmpty()) {
      return;
    }
    List<NodeLink> next = new ArrayList<>();
    List<NodeLink> fresh = new ArrayList<>();
    for (ProxyNode node : wanted) {
      NodeLink link = links.get(node);
      if (link == null) {
        link = create.apply(node);
        links.put(node, link);
        fresh.add(link);
      }
      next.add(link);
    }
    // Published before the new links start, so their first log lines count them.
    current = List.copyOf(next);
    boolean first = removed.isEmpty() && added.size() == current.size();
    StringJoiner names = new StringJoiner(", ");
    current.forEach(link -> names.add(link.node().label()));
    if (first) {
      LOG.info("Attaching to " + current.size() + (current.size() == 1 ? " proxy node" : " proxy nodes")
          + " for backend " + backend + ": " + names);
    } else {
      StringJoiner change = new StringJoiner("; ");
      added.forEach(node -> change.add("new node " + node.label()));
      removed.forEach(link -> change.add("let go of " + link.node().label() + ", which no longer resolves"));
      LOG.info("Proxy nodes for backend " + backend + " changed (" + change + "); attached to " + names);
    }
    fresh.forEach(start);
    for (NodeLink link : removed) {
      detach.accept(link);
    }
  }

  /**
   * Ends every node's response streams for a drain, once no exchange will write into them, waiting
   * until {@code deadlineNanos} at most for their calls.
   */
  void finishStreams(long deadlineNanos) throws InterruptedException {
    for (NodeLink link : current) {
      link.finishStreams(Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime())));
    }
  }

  /**
   * Ends polling on every node at once for a drain, each the way {@link NodeLink#finishPolling}
   * describes: the goodbye first, then the last answers are read. A node that has not answered
   * within {@code NodeLink.POLLER_STOP_MILLIS} has its polls cut.
   */
  void finishPolling(Capacity capacity) throws InterruptedException {
    synchronized (this) {
      stopped = true;
    }
    timer.shutdownNow();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(NodeLink.POLLER_STOP_MILLIS);
    List<CompletableFuture<Void>> finished = new ArrayList<>();
    for (NodeLink link : current) {
      finished.add(CompletableFuture.runAsync(() -> {
        try {
          link.finishPolling(capacity, deadline);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, task -> {
        Thread thread = new Thread(task, "drawbridge-leave");
        thread.setDaemon(true);
        thread.start();
      }));
    }
    for (CompletableFuture<Void> done : finished) {
      try {
        done.get();
      } catch (ExecutionException e) {
        throw new IllegalStateException("Ending the polls of a proxy node failed", e.getCause());
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    current.forEach(NodeLink::close);
  }
}
