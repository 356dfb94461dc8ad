package dev.drawbridge.it.support;

import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The whole tunnel for a test class: a scripted {@link Backend}, the proxy WAR in embedded Jetty
 * and the real agent jar, connected. Closed in reverse order, so nothing outlives the class.
 */
public final class TunnelFixture implements AutoCloseable {

  /** The backend id every fixture uses. */
  public static final String BACKEND_ID = "default";

  /** Bound for startup steps: agent connection, status API settling. */
  public static final Duration STARTUP = Duration.ofSeconds(30);

  private final String token;
  private final Backend backend;
  private ProxyServer proxy;
  private AgentProcess agent;

  private TunnelFixture(String token, Backend backend, ProxyServer proxy) {
    this.token = token;
    this.backend = backend;
    this.proxy = proxy;
  }

  /** A tunnel with default proxy settings and a default agent. */
  public static TunnelFixture start() {
    return start(config -> config, List.of());
  }

  /**
   * A tunnel whose proxy config is adjusted by {@code configure} (backend already added) and whose
   * agent gets {@code extraAgentFlags} after the usual ones.
   */
  public static TunnelFixture start(UnaryOperator<ProxyConfig> configure, List<String> extraAgentFlags) {
    TunnelFixture fixture = startWithoutAgent(configure);
    try {
      fixture.connectAgent(fixture.backend.url(), extraAgentFlags);
      return fixture;
    } catch (RuntimeException | AssertionError e) {
      fixture.close();
      throw e;
    }
  }

  /** Backend and proxy only; connect an agent with {@link #connectAgent}. */
  public static TunnelFixture startWithoutAgent(UnaryOperator<ProxyConfig> configure) {
    String token = Tokens.random();
    Backend backend = Backend.start();
    try {
      ProxyServer proxy =
          ProxyServer.start(configure.apply(ProxyConfig.singleBackend(BACKEND_ID, Tokens.sha256Hex(token))));
      return new TunnelFixture(token, backend, proxy);
    } catch (RuntimeException e) {
      backend.close();
      throw e;
    }
  }

  /** Starts an agent forwarding to {@code targetUrl} and waits until it is connected. */
  public AgentProcess connectAgent(String targetUrl, List<String> extraAgentFlags) {
    return connectAgent(List.of("-Xmx128m"), targetUrl, extraAgentFlags);
  }

  /** As {@link #connectAgent(String, List)}, with the agent JVM's options. */
  public AgentProcess connectAgent(List<String> jvmOptions, String targetUrl, List<String> extraAgentFlags) {
    if (agent != null) {
      agent.close();
    }
    List<String> flags = new ArrayList<>(AgentProcess.flags(proxy.baseUrl(), targetUrl, BACKEND_ID, token));
    flags.addAll(extraAgentFlags);
    agent = AgentProcess.start(jvmOptions, flags);
    agent.awaitLine(AgentProcess.CONNECTED, STARTUP);
    return agent;
  }

  /** Stops the proxy and starts it again on the same port; the agent is left to reconnect. */
  public ProxyServer restartProxy() {
    proxy = proxy.restart();
    return proxy;
  }

  public Backend backend() {
    return backend;
  }

  public ProxyServer proxy() {
    return proxy;
  }

  public AgentProcess agent() {
    return agent;
  }

  public String token() {
    return token;
  }

  /** The client-facing URI of {@code pathAndQuery}. */
  public URI uri(String pathAndQuery) {
    return proxy.uri(pathAndQuery);
  }

  /** {@code Host} header value a client of the proxy sends. */
  public String host() {
    return "127.0.0.1:" + proxy.port();
  }

  /** The proxy's admin status now. */
  public AdminStatus status() {
    return AdminStatus.read(proxy.baseUrl());
  }

  /** Waits until no exchange is queued or in flight; fails with the last status otherwise. */
  public void awaitIdle(Duration within) {
    await("all exchanges freed")
        .atMost(within)
        .pollInterval(Duration.ofMillis(50))
        .until(this::status, AdminStatus::idle);
  }

  @Override
  public void close() {
    try {
      if (agent != null) {
        agent.close();
      }
    } finally {
      try {
        proxy.close();
      } finally {
        backend.close();
      }
    }
  }
}
