package dev.drawbridge.proxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Validated, immutable proxy configuration. */
public record ProxySettings(
    Map<String, BackendSettings> backends,
    Duration pollWait,
    Duration agentGrace,
    long maxRequestBodyBytes,
    int inlineBodyMaxBytes,
    int retryAfterSeconds,
    Duration idleTimeout,
    List<String> trustedProxies,
    String via,
    boolean viaToService,
    int maxPollBatch,
    boolean requeueOnAgentLoss,
    List<RouteSettings> routes,
    Duration drainGrace,
    Duration drainDelay,
    UpgradeSettings upgrades) {

  /** The backend that takes requests when no route picks another. */
  public BackendSettings defaultBackend() {
    return backends.values().iterator().next();
  }
}
