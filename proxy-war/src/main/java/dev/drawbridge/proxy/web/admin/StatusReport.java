package dev.drawbridge.proxy.web.admin;

import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.config.ConfigReloader;
import dev.drawbridge.proxy.exchange.AgentSession;
import dev.drawbridge.proxy.exchange.Backend;
import dev.drawbridge.proxy.exchange.EndedExchange;
import dev.drawbridge.proxy.exchange.RecentActivity;
import dev.drawbridge.proxy.exchange.RecentStats;
import dev.drawbridge.proxy.exchange.Tunnel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The admin API's answer ({@code GET /_drawbridge/admin/api/status}), built from the tunnel at one
 * instant. The "JSON API" section of docs/operations.md documents every field; keep the two in step.
 *
 * @param now the proxy's clock when the report was made, so readers compute ages without skew
 * @param phase {@code serving}, {@code leaving} (drain call made, still taking work) or {@code
 *     draining} (agents told, new requests refused)
 * @param liveExchanges exchanges queued or in flight, all backends together
 * @param recentFailures the last exchanges that did not complete, newest first
 * @param config the running configuration and its reloads
 */
public record StatusReport(
    String version,
    String now,
    String startedAt,
    String phase,
    int liveExchanges,
    List<BackendStatus> backends,
    List<FailureStatus> recentFailures,
    ConfigStatus config) {

  /**
   * The running configuration and its reloads; times are ISO-8601 instants.
   *
   * @param file the configuration file, null on a first run without one
   * @param version 1 at start, one more for each applied reload
   * @param sha256 SHA-256 of the running file's bytes, null without a file
   * @param loadedAt when the running configuration was loaded
   * @param reloads reloads so far by result: applied, unchanged, invalid
   * @param lastError the last refused reload, or null
   */
  public record ConfigStatus(
      String file, long version, String sha256, String loadedAt, Map<String, Long> reloads, ConfigError lastError) {

    static ConfigStatus of(ConfigReloader.Status status) {
      Map<String, Long> reloads = new LinkedHashMap<>();
      status.reloads().forEach((result, count) -> reloads.put(result.name().toLowerCase(Locale.ROOT), count));
      return new ConfigStatus(status.file(), status.version(), status.sha256(), status.loadedAt().toString(), reloads,
          status.lastError() == null ? null : new ConfigError(status.lastErrorAt().toString(), status.lastError()));
    }
  }

  /** A refused reload: when, and the one line naming file, key and reason. */
  public record ConfigError(String at, String message) {}

  /**
   * One backend.
   *
   * @param oldestQueuedMillis age of the oldest queued client request, 0 when none waits
   * @param waitingPolls agent long-polls held open, waiting for work
   * @param inFlight exchanges delivered to an agent and not yet ended
   * @param recent the last five minutes of ended exchanges
   * @param upgraded upgraded connections (WebSockets) open now, handshakes included
   * @param maxUpgraded the configured limit of {@code upgraded}, 0 for none
   */
  public record BackendStatus(
      String id,
      int queueDepth,
      int maxQueued,
      long oldestQueuedMillis,
      int waitingPolls,
      int inFlight,
      List<AgentStatus> agents,
      RecentStats recent,
      int upgraded,
      int maxUpgraded) {}

  /**
   * One connected agent; times are ISO-8601 instants.
   *
   * @param token the first 12 hexadecimal digits of its token's SHA-256, to follow a rotation
   * @param nodes the proxy nodes the agent reports being attached to, with its link state to each
   *     (this node among them); empty for an agent that reports none
   */
  public record AgentStatus(
      String id,
      String version,
      String remoteAddress,
      String connectedSince,
      String lastSeen,
      int inFlight,
      String token,
      List<NodeStatus> nodes) {}

  /** A proxy node as an agent reports it: {@code connected}, {@code starting}, {@code failing}, {@code rejected} or {@code draining}. */
  public record NodeStatus(String node, String state) {}

  /** One exchange that did not complete, with its reason: the client's sentence or the details it was spared. */
  public record FailureStatus(
      String at,
      String exchangeId,
      String backend,
      String method,
      String target,
      int status,
      String outcome,
      String reason,
      String agentId,
      String clientAddress,
      long totalMillis) {}

  /** The tunnel's state now, and the configuration's when {@code config} is given. */
  public static StatusReport of(Tunnel tunnel, ConfigReloader.Status config) {
    Instant now = Instant.now();
    long nowNanos = tunnel.nanoTime();
    RecentActivity activity = tunnel.recentActivity();
    List<BackendStatus> backends = new ArrayList<>();
    for (Backend backend : tunnel.backends()) {
      List<AgentStatus> agents = new ArrayList<>();
      int inFlight = 0;
      for (AgentSession agent : backend.agents()) {
        inFlight += agent.inFlightCount();
        agents.add(
            new AgentStatus(
                agent.agentId(),
                agent.version(),
                agent.remoteAddress(),
                agent.connectedSince().toString(),
                agent.lastSeen().toString(),
                agent.inFlightCount(),
                agent.tokenFingerprint(),
                agent.reportedNodes().stream().map(node -> new NodeStatus(node.node(), node.state())).toList()));
      }
      backends.add(
          new BackendStatus(
              backend.id(),
              backend.queueDepth(),
              backend.settings().maxQueued(),
              backend.oldestQueuedMillis(nowNanos),
              backend.parkedPolls(),
              inFlight,
              agents,
              activity.stats(backend.id(), now.toEpochMilli()),
              backend.upgradeSlots().open(),
              backend.settings().maxUpgraded()));
    }
    List<FailureStatus> failures = new ArrayList<>();
    for (EndedExchange failed : activity.failures()) {
      failures.add(
          new FailureStatus(
              failed.endedAt().toString(),
              failed.id(),
              failed.backendId(),
              failed.method(),
              failed.target(),
              failed.status(),
              failed.outcome().name(),
              failed.reason(),
              failed.agentId(),
              failed.clientAddress(),
              failed.totalMillis()));
    }
    return new StatusReport(
        Protocol.SOFTWARE_VERSION,
        now.toString(),
        tunnel.startedAt().toString(),
        tunnel.phase().name().toLowerCase(Locale.ROOT),
        tunnel.liveExchanges(),
        backends,
        failures,
        config == null ? null : ConfigStatus.of(config));
  }
}
