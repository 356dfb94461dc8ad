package dev.drawbridge.agent;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.apache.hc.core5.http.HttpHost;

/**
 * Everything an {@link Agent} needs, already validated. Build one with {@link CommandLine} or
 * directly in tests.
 *
 * @param proxies proxy base URLs including their context path, without a trailing slash; the agent
 *     attaches to every address each one's host name resolves to
 * @param target backend base URL; its path (without a trailing slash) prefixes every request target
 * @param backend backend id on the proxy
 * @param token agent token; never logged, never printed by {@link #toString()}
 * @param agentId this agent's name in the proxy's admin page and logs
 * @param concurrency most exchanges in flight at once
 * @param polls long polls kept outstanding
 * @param connectTimeout connect timeout toward the proxy and the backend
 * @param backendTimeout socket and response timeout toward the backend
 * @param proxyTimeout response timeout of proxy calls; must exceed the proxy's poll wait
 * @param preserveHost send the client's Host header to the backend (the default) instead of the
 *     target's host and port
 * @param drainTimeout how long in-flight exchanges may take to finish on shutdown
 * @param maxBackoff cap of the reconnect backoff
 * @param healthPath path on the target checked with GET, starting with '/', or null for no check
 * @param healthInterval time between two health checks
 * @param transport trust store, forward proxy and name lookups toward the proxy
 * @param tokenFile the file {@code token} was read from, followed for changes; null for a token
 *     given directly
 */
public record AgentConfig(
    List<URI> proxies,
    URI target,
    String backend,
    String token,
    String agentId,
    int concurrency,
    int polls,
    Duration connectTimeout,
    Duration backendTimeout,
    Duration proxyTimeout,
    boolean preserveHost,
    Duration drainTimeout,
    Duration maxBackoff,
    String healthPath,
    Duration healthInterval,
    ProxyTransport transport,
    java.nio.file.Path tokenFile) {

  /** Most exchanges asked for in one poll; matches the proxy's default maxPollBatch. */
  public static final int MAX_POLL_BATCH = 32;

  public AgentConfig {
    proxies = List.copyOf(proxies);
    if (proxies.isEmpty()) {
      throw new IllegalArgumentException("at least one proxy URL");
    }
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(agentId, "agentId");
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(backendTimeout, "backendTimeout");
    Objects.requireNonNull(proxyTimeout, "proxyTimeout");
    Objects.requireNonNull(drainTimeout, "drainTimeout");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    Objects.requireNonNull(healthInterval, "healthInterval");
    if (healthPath != null && !healthPath.startsWith("/")) {
      throw new IllegalArgumentException("healthPath must start with '/', got " + healthPath);
    }
    Objects.requireNonNull(transport, "transport");
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
    }
    if (polls < 1) {
      throw new IllegalArgumentException("polls must be at least 1, got " + polls);
    }
    // More polls than exchange slots would only block: each poll holds at least one slot.
    polls = Math.min(polls, concurrency);
  }

  /** A config with one proxy URL whose token was given directly, not read from a file. */
  public AgentConfig(URI proxy, URI target, String backend, String token, String agentId, int concurrency,
      int polls, Duration connectTimeout, Duration backendTimeout, Duration proxyTimeout, boolean preserveHost,
      Duration drainTimeout, Duration maxBackoff, String healthPath, Duration healthInterval, ProxyTransport transport) {
    this(List.of(proxy), target, backend, token, agentId, concurrency, polls, connectTimeout, backendTimeout,
        proxyTimeout, preserveHost, drainTimeout, maxBackoff, healthPath, healthInterval, transport, null);
  }

  /** The first proxy URL, which names the proxy in messages. */
  public URI proxy() {
    return proxies.get(0);
  }

  /** A config reaching the proxy directly and trusting the JVM's trust store. */
  public AgentConfig(URI proxy, URI target, String backend, String token, String agentId, int concurrency,
      int polls, Duration connectTimeout, Duration backendTimeout, Duration proxyTimeout, boolean preserveHost,
      Duration drainTimeout, Duration maxBackoff) {
    this(List.of(proxy), target, backend, token, agentId, concurrency, polls, connectTimeout, backendTimeout,
        proxyTimeout, preserveHost, drainTimeout, maxBackoff, null, Duration.ofSeconds(5), ProxyTransport.DEFAULT, null);
  }

  /** This config serving {@code otherBackend} at {@code otherTarget}, for agents with several routes. */
  public AgentConfig forRoute(String otherBackend, URI otherTarget) {
    return forRoute(otherBackend, otherTarget, token, tokenFile);
  }

  /** Like {@link #forRoute(String, URI)}, with a token of its own (read from {@code otherTokenFile}, or null). */
  public AgentConfig forRoute(String otherBackend, URI otherTarget, String otherToken, java.nio.file.Path otherTokenFile) {
    return new AgentConfig(proxies, otherTarget, otherBackend, otherToken, agentId, concurrency, polls, connectTimeout,
        backendTimeout, proxyTimeout, preserveHost, drainTimeout, maxBackoff, healthPath, healthInterval, transport,
        otherTokenFile);
  }

  /** A config with the documented defaults, for embedding and tests. */
  public static AgentConfig defaults(URI proxy, URI target, String token) {
    return new AgentConfig(
        List.of(proxy),
        target,
        "default",
        token,
        CommandLine.defaultAgentId(),
        64,
        2,
        Duration.ofSeconds(10),
        Duration.ofSeconds(60),
        Duration.ofSeconds(60),
        true,
        Duration.ofSeconds(30),
        Duration.ofSeconds(30),
        null,
        Duration.ofSeconds(5),
        ProxyTransport.DEFAULT,
        null);
  }

  /** The same config with a backend health check on {@code path} every {@code interval}. */
  public AgentConfig withHealthCheck(String path, Duration interval) {
    return new AgentConfig(proxies, target, backend, token, agentId, concurrency, polls, connectTimeout,
        backendTimeout, proxyTimeout, preserveHost, drainTimeout, maxBackoff, path, interval, transport, tokenFile);
  }

  /** The scheme, host and port of {@link #target()}, as HttpClient addresses the backend. */
  public HttpHost targetHost() {
    return new HttpHost(target.getScheme(), target.getHost(), target.getPort());
  }

  /** Path prefix taken from {@link #target()}, "" when it has none. */
  public String targetBasePath() {
    String path = target.getRawPath();
    return path == null ? "" : path;
  }

  @Override
  public String toString() {
    // The record default would print the token.
    return "AgentConfig[proxies=" + proxies + ", target=" + target + ", backend=" + backend
        + ", agentId=" + agentId + ", concurrency=" + concurrency + ", polls=" + polls + ", " + transport + "]";
  }
}
