package dev.drawbridge.proxy.metrics;

import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.exchange.AgentSession;
import dev.drawbridge.proxy.exchange.Backend;
import dev.drawbridge.proxy.exchange.EndedExchange;
import dev.drawbridge.proxy.exchange.ExchangeState;
import dev.drawbridge.proxy.exchange.Tunnel;
import dev.drawbridge.proxy.config.ConfigReloader;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The proxy's Prometheus metrics: one registry per deployed WAR (never Micrometer's global one, so
 * a redeploy starts clean), fed by the tunnel's exchange-end events and read from its backends.
 * {@link #close} unhooks everything that points back into the web application's class loader.
 */
public final class ProxyMetrics implements AutoCloseable {

  /** Agent auth failure reason: no token, or one no backend accepts (the agent got 401). */
  public static final String UNKNOWN_TOKEN = "unknown_token";

  /** Agent auth failure reason: a valid token used for a backend it is not granted (403). */
  public static final String NOT_ALLOWED = "not_allowed";

  /** Histogram buckets for waits and durations: from a fast local hop to a long poll's patience. */
  private static final Duration[] BUCKETS = {
    Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
    Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
    Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
    Duration.ofSeconds(30), Duration.ofSeconds(60)
  };

  /** The Prometheus text format, what every Prometheus version scrapes. */
  public static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";

  /** OpenMetrics 1.0, for scrapers that ask for it. */
  public static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Tunnel tunnel;
  private final Consumer<EndedExchange> onEnded = this::recordEnded;
  private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
  private final Map<String, BackendMeters> backendMeters = new ConcurrentHashMap<>();
  /** The gauges of each backend, removed with it when a reload removes the backend. */
  private final Map<Backend, List<Meter>> backendGauges = new ConcurrentHashMap<>();
  private final Tunnel.BackendListener onBackendChange =
      new Tunnel.BackendListener() {
        @Override
        public void added(Backend backend) {
          registerBackend(backend);
        }

        @Override
        public void removed(Backend backend) {
          List<Meter> gauges = backendGauges.remove(backend);
          if (gauges != null) {
            gauges.forEach(registry::remove);
          }
        }
      };

  /** Metrics of {@code tunnel} without configuration reloads, for tests. */
  public ProxyMetrics(Tunnel tunnel) {
    this(tunnel, null);
  }

  /** Metrics of {@code tunnel} and of the reloads of {@code config}, when given. */
  public ProxyMetrics(Tunnel tunnel, ConfigReloader config) {
    this.tunnel = tunnel;
    for (MeterBinder binder :
        List.of(
            new JvmMemoryMetrics(),
            gcMetrics,
            new JvmThreadMetrics(),
            new ClassLoaderMetrics(),
            new JvmInfoMetrics(),
            new ProcessorMetrics(),
            new UptimeMetrics(),
            new FileDescriptorMetrics())) {
      binder.bindTo(registry);
    }
    Gauge.builder("drawbridge.build.info", () -> 1)
        .description("Always 1; the version label says which Drawbridge runs")
        .tag("version", Protocol.SOFTWARE_VERSION)
        .register(registry);
    Gauge.builder("drawbridge.exchanges.live", tunnel, Tunnel::liveExchanges)
        .description("Client requests queued or in flight, all backends")
        .strongReference(true)
        .register(registry);
    Gauge.builder("drawbridge.node.serving", tunnel, t -> t.phase() == Tunnel.Phase.SERVING ? 1 : 0)
        .description("1 while this node takes part in its load balancer, 0 from a drain call or stop on")
        .strongReference(true)
        .register(registry);
    for (Backend backend : tunnel.backends()) {
      registerBackend(backend);
    }
    tunnel.addBackendListener(onBackendChange);
    if (config != null) {
      registerConfig(config);
    }
    for (String reason : List.of(UNKNOWN_TOKEN, NOT_ALLOWED)) {
      authFailures(reason);
    }
    tunnel.addEndListener(onEnded);
  }

  /**
   * The running configuration's version and hash, and reloads by result. The hash is a label of an
   * info gauge, so a dashboard shows which file runs on each node.
   */
  private void registerConfig(ConfigReloader config) {
    Gauge.builder("drawbridge.config.version", config, c -> c.status().version())
        .description("1 for the configuration the proxy started with, one more for each reload applied")
        .strongReference(true)
        .register(registry);
    for (ConfigReloader.Result result : ConfigReloader.Result.values()) {
      FunctionCounter.builder("drawbridge.config.reloads", config, c -> c.status().reloads().get(result))
          .description("Configuration reloads by result: applied, unchanged (same file), invalid (refused, the running one stays)")
          .tag("result", result.name().toLowerCase(Locale.ROOT))
          .register(registry);
    }
    Gauge.builder("drawbridge.config.loaded", config, c -> c.status().loadedAt().toEpochMilli() / 1000.0)
        .description("When the running configuration was loaded, in seconds since the epoch")
        .baseUnit("timestamp_seconds")
        .strongReference(true)
        .register(registry);
    MultiGauge info = MultiGauge.builder("drawbridge.config.info")
        .description("Always 1; the sha256 label names the running configuration file's content")
        .register(registry);
    Runnable showHash = () -> info.register(
        List.of(MultiGauge.Row.of(Tags.of("sha256", String.valueOf(config.status().sha256())), 1)), true);
    showHash.run();
    configInfo = showHash;
  }

  /** Re-labels the configuration's info gauge; run on every scrape, cheap when nothing changed. */
  private Runnable configInfo = () -> {};

  private void registerBackend(Backend backend) {
    List<Meter> gauges = new java.util.ArrayList<>();
    backendGauges.put(backend, gauges);
    String id = backend.id();
    gauges.add(Gauge.builder("drawbridge.queue.depth", backend, Backend::queueDepth)
        .description("Client requests waiting for an agent")
        .tag("backend", id)
        .strongReference(true)
        .register(registry));
    gauges.add(TimeGauge.builder(
            "drawbridge.queue.oldest.age",
            backend,
            TimeUnit.MILLISECONDS,
            b -> b.oldestQueuedMillis(tunnel.nanoTime()))
        .description("How long the oldest queued client request has waited")
        .tag("backend", id)
        .strongReference(true)
        .register(registry));
    gauges.add(Gauge.builder("drawbridge.polls.waiting", backend, Backend::parkedPolls)
        .description("Agent long-polls held open, waiting for work")
        .tag("backend", id)
        .strongReference(true)
        .register(registry));
    gauges.add(Gauge.builder("drawbridge.upgraded.connections", backend, b -> b.upgradeSlots().open())
        .description("Upgraded connections (WebSockets) open now, handshakes included")
        .tag("backend", id)
        .strongReference(true)
        .register(registry));
    gauges.add(Gauge.builder("drawbridge.agents.connected", backend, b -> b.agents().size())
        .description("Agents that polled within the poll wait plus grace")
        .tag("backend", id)
        .strongReference(true)
        .register(registry));
    gauges.add(Gauge.builder(
            "drawbridge.exchanges.in.flight",
            backend,
            b -> b.agents().stream().mapToInt(AgentSession::inFlightCount).sum())
        .description("Exchanges delivered to an agent and not yet ended")
        .tag("backend", id)
        .strongReference(true)
        .register(registry));
  }

  private void recordEnded(EndedExchange exchange) {
    // Meters are looked up in maps of our own: building and registering them on every request cost
    // about 3 % of the proxy's CPU for small responses.
    String backend = exchange.backendId();
    BackendMeters meters = backendMeters.computeIfAbsent(backend, this::backendMeters);
    meters.requests()
        .computeIfAbsent(
            new RequestKind(exchange.statusClass(), exchange.outcome()),
            kind -> requestCounter(backend, kind))
        .increment();
    meters.queueWait().record(exchange.queueNanos(), TimeUnit.NANOSECONDS);
    meters.duration().record(exchange.totalNanos(), TimeUnit.NANOSECONDS);
    meters.bytesIn().increment(exchange.bytesIn());
    meters.bytesOut().increment(exchange.bytesOut());
  }

  /** The meters every ended exchange of one backend feeds. */
  private record BackendMeters(
      Map<RequestKind, Counter> requests, Timer queueWait, Timer duration, Counter bytesIn, Counter bytesOut) {}

  /**
   * What the requests counter tells ended exchanges apart by. Its equals and hashCode are written
   * out: on Java 17 the generated ones leave a cached method handle in the JDK that refers to this
   * class, which keeps an undeployed WAR's class loader reachable until another WAR replaces it
   * (JDK-8078641, fixed in Java 18).
   */
  private record RequestKind(String statusClass, ExchangeState outcome) {
    @Override
    public boolean equals(Object other) {
      return other instanceof RequestKind kind && kind.outcome == outcome && kind.statusClass.equals(statusClass);
    }

    @Override
    public int hashCode() {
      return 31 * statusClass.hashCode() + outcome.ordinal();
    }
  }

  private Counter requestCounter(String backend, RequestKind kind) {
    return Counter.builder("drawbridge.requests")
        .description("Ended client requests by the status class the client got and how the exchange ended")
        .tags(
            "backend", backend,
            "status_class", kind.statusClass(),
            "outcome", kind.outcome().name().toLowerCase(Locale.ROOT))
        .register(registry);
  }

  private BackendMeters backendMeters(String backend) {
    return new BackendMeters(
        new ConcurrentHashMap<>(),
        timer("drawbridge.queue.wait", "Time client requests waited in the queue for an agent", backend),
        timer("drawbridge.exchange.duration", "Time from the client's request to the end of its response", backend),
        Counter.builder("drawbridge.request")
            .baseUnit("bytes")
            .description("Client request body bytes passed to agents")
            .tag("backend", backend)
            .register(registry),
        Counter.builder("drawbridge.response")
            .baseUnit("bytes")
            .description("Response body bytes passed to clients")
            .tag("backend", backend)
            .register(registry));
  }

  private Timer timer(String name, String description, String backend) {
    return Timer.builder(name)
        .description(description)
        .tag("backend", backend)
        .serviceLevelObjectives(BUCKETS)
        .register(registry);
  }

  private Counter authFailures(String reason) {
    return Counter.builder("drawbridge.agent.auth.failures")
        .description("Agent calls refused for their token")
        .tag("reason", reason)
        .register(registry);
  }

  /** Counts an agent call refused with 401 or 403; {@code reason} is one of the constants above. */
  public void agentAuthFailed(String reason) {
    authFailures(reason).increment();
  }

  /**
   * Writes every metric in the format the scraper asked for: OpenMetrics when its {@code Accept}
   * header offers it, else the Prometheus text format 0.0.4.
   *
   * @return the content type written
   */
  public String scrape(String accept, OutputStream out) throws IOException {
    String contentType =
        accept != null && accept.contains("application/openmetrics-text")
            ? OPEN_METRICS
            : TEXT_FORMAT;
    configInfo.run();
    registry.scrape(out, contentType);
    return contentType;
  }

  /** The registry, for tests and for binding further meters. */
  public MeterRegistry registry() {
    return registry;
  }

  @Override
  public void close() {
    tunnel.removeEndListener(onEnded);
    tunnel.removeBackendListener(onBackendChange);
    // JvmGcMetrics registered GC notification listeners with the platform MBeans: left alone they
    // would keep this web application's class loader alive after undeploy.
    gcMetrics.close();
    registry.close();
  }
}
