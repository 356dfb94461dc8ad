package dev.drawbridge.proxy.exchange;

import dev.drawbridge.proxy.config.BackendSettings;
import dev.drawbridge.proxy.config.ProxySettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;

/**
 * The configuration a tunnel runs with and the backends it names, both replaced whole by a reload
 * ({@link #apply}); and the backends a reload removed, which finish what their agents hold until
 * their grace is over ({@link #cutRetired}).
 */
final class RunningConfig {

  private static final Logger LOG = Logger.getLogger(RunningConfig.class.getName());

  private final Tunnel tunnel;
  /** Replaced whole by {@link #apply}; readers take one snapshot per decision. */
  private volatile ProxySettings settings;
  /** Immutable; replaced whole by {@link #apply}, always before {@link #settings} names a new backend. */
  private volatile Map<String, Backend> backends;
  /** Backends a reload removed whose agents may still answer exchanges in flight, until retired. */
  private final Map<String, Backend> retiring = new ConcurrentHashMap<>();
  /** When each removed backend's grace ends, on the tunnel's clock; the sweep cuts it then. */
  private final Map<Backend, Long> graceEnds = new ConcurrentHashMap<>();
  private final List<Tunnel.BackendListener> listeners = new CopyOnWriteArrayList<>();
  private final Object applying = new Object();

  RunningConfig(ProxySettings settings, Tunnel tunnel) {
    this.tunnel = tunnel;
    this.settings = settings;
    Map<String, Backend> byId = new LinkedHashMap<>();
    for (BackendSettings backend : settings.backends().values()) {
      byId.put(backend.id(), new Backend(backend, tunnel));
    }
    this.backends = Collections.unmodifiableMap(byId);
  }

  ProxySettings settings() {
    return settings;
  }

  /** The backend with this id, running or retiring, or null. */
  Backend backend(String id) {
    Backend backend = backends.get(id);
    return backend != null ? backend : retiring.get(id);
  }

  /** The running backends, in configuration order. */
  Collection<Backend> backends() {
    return backends.values();
  }

  /** The running backends and the retiring ones. */
  List<Backend> backendsForAgents() {
    List<Backend> all = new ArrayList<>(backends.values());
    all.addAll(retiring.values());
    return all;
  }

  void addListener(Tunnel.BackendListener listener) {
    listeners.add(listener);
  }

  void removeListener(Tunnel.BackendListener listener) {
    listeners.remove(listener);
  }

  /**
   * Runs with {@code next} from now on; see {@link Tunnel#apply}. When {@code draining}, the
   * backends it adds take no work either.
   */
  void apply(ProxySettings next, boolean draining) {
    List<Backend> added = new ArrayList<>();
    List<Backend> removed = new ArrayList<>();
    synchronized (applying) {
      Map<String, Backend> current = backends;
      Map<String, Backend> byId = new LinkedHashMap<>();
      for (BackendSettings backendSettings : next.backends().values()) {
        Backend backend = current.get(backendSettings.id());
        if (backend == null) {
          // Also when one of that name still drains after an earlier removal: that one finishes alone.
          backend = new Backend(backendSettings, tunnel);
          added.add(backend);
        } else {
          backend.update(backendSettings);
        }
        byId.put(backend.id(), backend);
      }
      for (Backend backend : current.values()) {
        if (!byId.containsKey(backend.id())) {
          removed.add(backend);
          retiring.put(backend.id(), backend);
        }
      }
      backends = Collections.unmodifiableMap(byId);
      settings = next;
    }
    for (Backend backend : backends.values()) {
      backend.revokeTokensNotIn(backend.settings().agentTokenSha256());
    }
    for (Backend backend : removed) {
      retire(backend, next.drainGrace());
    }
    if (draining) {
      added.forEach(backend -> backend.drain(Backend.SHUTTING_DOWN, false));
    }
    for (Tunnel.BackendListener listener : listeners) {
      added.forEach(listener::added);
      removed.forEach(listener::removed);
    }
  }

  /** Drains a removed backend now and cuts what it still serves once {@code grace} is over. */
  private void retire(Backend backend, Duration grace) {
    LOG.info(() -> "Backend '" + backend.id() + "' was removed from the configuration: its queued requests get 503,"
        + " its agents are told to go, and requests at its agents get up to " + grace.toSeconds() + " s to finish");
    backend.drain(Backend.REMOVED);
    // Enforced by the sweep, like every other deadline; once the tunnel closes, its drain ends them.
    graceEnds.put(backend, tunnel.nanoTime() + grace.toNanos());
  }

  /**
   * Cuts what a removed backend still serves among {@code live} once its grace is over, and
   * forgets the backend.
   */
  void cutRetired(long now, Collection<Exchange> live) {
    for (Map.Entry<Backend, Long> entry : graceEnds.entrySet()) {
      Backend backend = entry.getKey();
      if (now - entry.getValue() >= 0 && graceEnds.remove(backend, entry.getValue())) {
        for (Exchange exchange : List.copyOf(live)) {
          if (exchange.backend() == backend) {
            backend.refuseRemoved(exchange);
          }
        }
        retiring.remove(backend.id(), backend);
      }
    }
  }
}
