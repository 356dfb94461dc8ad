package dev.drawbridge.agent;

import dev.drawbridge.protocol.Protocol;
import java.net.URI;
import java.nio.channels.ClosedSelectorException;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.config.TlsConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManager;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.client5.http.io.ManagedHttpClientConnection;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.HttpRequestInterceptor;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.io.HttpConnectionFactory;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.http.message.BasicHeader;
import org.apache.hc.core5.http2.HttpVersionPolicy;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The agent's two HttpClients, one per leg. Both behave as a proxy must: no redirects followed, no
 * cookies stored, no content decoded, every wait bounded. A call that met a pooled connection the
 * server had closed is sent again once, on a new connection: to the proxy ({@link
 * StaleConnectionRetry}), and to the backend only for an idempotent request whose body is in memory
 * ({@link StaleBackendConnectionRetry}). Nothing else is retried, no streamed body ever, and no
 * request on a status.
 */
final class ClientFactory {

  /** Idle pooled connections are closed after this, before a server's idle timeout (60 s) can race us. */
  private static final TimeValue IDLE_EVICTION = TimeValue.ofSeconds(30);

  private static final Logger LOG = Logger.getLogger(ClientFactory.class.getName());

  private static final String USER_AGENT = "drawbridge-agent/" + Protocol.SOFTWARE_VERSION;

  /** Bytes an upgraded connection's request-body call may deliver before the backend took them. */
  static final int UPGRADED_WINDOW = 32 * 1024;

  /** Size of each of the session buffers of an upgraded connection's call. */
  private static final int UPGRADED_BUFFER = 8 * 1024;

  private ClientFactory() {}

  /**
   * Agent-to-proxy leg: polls, request-body fetches and response uploads. Each exchange may hold a
   * body fetch and an upload at once, beside the polls. Honours the JVM's TLS and
   * {@code https.proxyHost} settings, since the way out of a private network often needs them.
   */
  static CloseableHttpClient proxyClient(AgentConfig config) {
    return proxyClient(config, proxyPool(config, new ProxyNode(config.proxy(), null)), TokenSource.of(config), newInstance());
  }

  /**
   * A new agent process instance for {@link Protocol#AGENT_INSTANCE_HEADER}: random, so a restarted
   * agent never repeats its predecessor's, whatever its {@code --agent-id}.
   */
  static String newInstance() {
    return java.util.UUID.randomUUID().toString();
  }

  /**
   * The connections of the agent-to-proxy leg to one node, for {@link #proxyClient(AgentConfig,
   * PoolingHttpClientConnectionManager, TokenSource, String)}. They go to the node's address while TLS and {@code Host}
   * still use the URL's host name.
   */
  static PoolingHttpClientConnectionManager proxyPool(AgentConfig config, ProxyNode node) {
    // The polls, two calls per exchange, and the response streams: the open one and one ending.
    int connections = config.polls() + 2 * config.concurrency() + 2;
    return pool(connections, config.connectTimeout(), config.proxyTimeout(), TimeValue.ofSeconds(2),
        ProxyTls.strategy(config.transport()), PinnedDnsResolver.of(node), null);
  }

  /**
   * The agent-to-proxy client over {@code pool}, which the caller keeps to drop idle connections,
   * sending {@code token}'s token, which the clients of all of one agent's nodes share, and the
   * process {@code instance}.
   */
  static CloseableHttpClient proxyClient(
      AgentConfig config, PoolingHttpClientConnectionManager pool, TokenSource token, String instance) {
    return proxyClient(config, pool, token, instance, () -> { });
  }

  /** Like the above, running {@code onCall} as each call goes out. */
  static CloseableHttpClient proxyClient(
      AgentConfig config, PoolingHttpClientConnectionManager pool, TokenSource token, String instance,
      Runnable onCall) {
    return common(pool, config.connectTimeout(), config.proxyTimeout())
        .setProxy(egressProxy(config))
        .setRetryStrategy(new StaleConnectionRetry())
        .setUserAgent(USER_AGENT)
        .addRequestInterceptorFirst(bearer(token))
        .addRequestInterceptorLast((request, entity, context) -> onCall.run())
        .setDefaultHeaders(agentHeaders(config, instance))
        .useSystemProperties()
        .build();
  }

  /**
   * Agent-to-proxy leg of upgraded connections: two calls per open connection, each streaming as
   * long as the connection is open, so no read timeout (the proxy's idle timeout ends a silent
   * connection) and a pool of their own, so they never starve polls and responses. Asynchronous,
   * on one I/O thread, so open connections hold no thread; HTTP/1.1 only. Like the other calls,
   * they go to {@code node}'s address and send {@code token}'s token. The client is started.
   */
  static CloseableHttpAsyncClient upgradedClient(
      AgentConfig config, int maxConnections, ProxyNode node, TokenSource token, String instance) {
    PoolingAsyncClientConnectionManager pool =
        PoolingAsyncClientConnectionManagerBuilder.create()
            .setTlsStrategy(ProxyTls.strategy(config.transport()))
            .setDnsResolver(PinnedDnsResolver.of(node))
            .useSystemProperties()
            .setMaxConnTotal(2 * maxConnections)
            .setMaxConnPerRoute(2 * maxConnections)
            .setDefaultTlsConfig(TlsConfig.custom().setVersionPolicy(HttpVersionPolicy.FORCE_HTTP_1).build())
            .setDefaultConnectionConfig(
                ConnectionConfig.custom()
                    .setConnectTimeout(timeout(config.connectTimeout()))
                    .setSocketTimeout(Timeout.DISABLED)
                    .build())
            .build();
    RequestConfig requests =
        RequestConfig.custom()
            .setConnectionRequestTimeout(timeout(config.connectTimeout()))
            .setResponseTimeout(Timeout.DISABLED)
            .setRedirectsEnabled(false)
            .setContentCompressionEnabled(false)
            .setExpectContinueEnabled(false)
            .setAuthenticationEnabled(false)
            .build();
    CloseableHttpAsyncClient client =
        HttpAsyncClients.custom()
            .setConnectionManager(pool)
            .setDefaultRequestConfig(requests)
            .setIOReactorConfig(
                IOReactorConfig.custom()
                    .setIoThreadCount(1)
                    .setSoTimeout(Timeout.DISABLED)
                    .setTcpNoDelay(true)
                    .setSoKeepAlive(true)
                    .build())
            // Small session buffers (three per call, 32 KiB each by default), and a bound on what a
            // call may deliver before the backend took it.
            .setHttp1Config(
                Http1Config.custom().setBufferSize(UPGRADED_BUFFER).setInitialWindowSize(UPGRADED_WINDOW).build())
            .disableRedirectHandling()
            .disableCookieManagement()
            .disableAuthCaching()
            .disableAutomaticRetries()
            .setUserAgent(USER_AGENT)
            .addRequestInterceptorFirst(bearer(token))
            .setDefaultHeaders(agentHeaders(config, instance))
            // Never reused: each call lives as long as its connection, and a connection the proxy
            // ended meanwhile would fail the next WebSocket's call without a retry.
            .setConnectionReuseStrategy((request, response, context) -> false)
            // Closing the client at once races its I/O thread's own cleanup of the closed selector.
            .setIoReactorExceptionCallback(failure -> {
              if (!(failure instanceof ClosedSelectorException)) {
                LOG.log(Level.WARNING, "The I/O thread of upgraded connections failed", failure);
              }
            })
            .setProxy(egressProxy(config))
            .useSystemProperties()
            .build();
    client.start();
    return client;
  }

  /**
   * Sets the agent's token on each call, not as a default header: a token file may change while
   * the agent runs.
   */
  private static HttpRequestInterceptor bearer(TokenSource token) {
    return (request, entity, context) -> request.setHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token.current());
  }

  /** The HTTP proxy the way out goes through ({@code --egress-proxy}), or null for none. */
  private static HttpHost egressProxy(AgentConfig config) {
    URI egress = config.transport().egressProxy();
    return egress == null ? null : new HttpHost("http", egress.getHost(), egress.getPort());
  }

  /** What every call to the proxy says of the agent: its id, process instance and versions. */
  private static List<Header> agentHeaders(AgentConfig config, String instance) {
    return List.of(
        new BasicHeader(Protocol.AGENT_ID_HEADER, config.agentId()),
        new BasicHeader(Protocol.AGENT_INSTANCE_HEADER, instance),
        new BasicHeader(Protocol.AGENT_VERSION_HEADER, Protocol.SOFTWARE_VERSION),
        new BasicHeader(Protocol.PROTOCOL_HEADER, String.valueOf(Protocol.VERSION)));
  }

  /**
   * Agent-to-backend leg. Adds no User-Agent (the client's own is forwarded), and validates pooled
   * connections idle for more than a second. A backend may close an idle keep-alive connection
   * sooner, or right after an answer: an idempotent request that meets one is sent again on a new
   * connection ({@link StaleBackendConnectionRetry}); any other gets the failure.
   */
  static CloseableHttpClient backendClient(AgentConfig config) {
    return StaleBackendConnectionRetry.install(
            common(backendPool(config), config.connectTimeout(), config.backendTimeout()), config.concurrency())
        .disableDefaultUserAgent()
        .build();
  }

  /**
   * The connections of the agent-to-backend leg, one per exchange slot. They take an answer that
   * comes while a request body is still being sent ({@link BackendConnectionFactory}).
   */
  static PoolingHttpClientConnectionManager backendPool(AgentConfig config) {
    return pool(config.concurrency(), config.connectTimeout(), config.backendTimeout(), TimeValue.ofSeconds(1), null,
        null, BackendConnectionFactory.INSTANCE);
  }

  /** Agent-to-backend leg of the health check: one connection, never shared with client requests. */
  static CloseableHttpClient healthClient(AgentConfig config) {
    PoolingHttpClientConnectionManager pool =
        pool(1, config.connectTimeout(), config.healthInterval(), TimeValue.ofSeconds(1), null, null, null);
    return common(pool, config.connectTimeout(), config.healthInterval())
        .disableAutomaticRetries()
        .disableDefaultUserAgent()
        .build();
  }

  private static PoolingHttpClientConnectionManager pool(
      int connections, Duration connectTimeout, Duration socketTimeout, TimeValue validateAfter,
      TlsSocketStrategy tls, DnsResolver dns, HttpConnectionFactory<ManagedHttpClientConnection> factory) {
    PoolingHttpClientConnectionManagerBuilder builder = PoolingHttpClientConnectionManagerBuilder.create();
    if (factory != null) {
      builder.setConnectionFactory(factory);
    }
    return builder
        .setTlsSocketStrategy(tls)
        .setDnsResolver(dns)
        .useSystemProperties()
        .setMaxConnTotal(connections)
        .setMaxConnPerRoute(connections)
        // No Nagle: a request head, a body frame or a poll is sent at once, not held back until the
        // peer acknowledges the previous segment (which a delayed ACK puts off by up to 40 ms).
        .setDefaultSocketConfig(SocketConfig.custom().setTcpNoDelay(true).setSoKeepAlive(true).build())
        .setDefaultConnectionConfig(
            ConnectionConfig.custom()
                .setConnectTimeout(timeout(connectTimeout))
                .setSocketTimeout(timeout(socketTimeout))
                .setValidateAfterInactivity(validateAfter)
                .build())
        .build();
  }

  private static HttpClientBuilder common(
      PoolingHttpClientConnectionManager pool, Duration connectTimeout, Duration responseTimeout) {
    RequestConfig requests =
        RequestConfig.custom()
            // The pools are sized for the work; waiting long for a connection means a leak.
            .setConnectionRequestTimeout(timeout(connectTimeout))
            .setResponseTimeout(timeout(responseTimeout))
            .setRedirectsEnabled(false)
            .setContentCompressionEnabled(false)
            .setExpectContinueEnabled(false)
            .setAuthenticationEnabled(false)
            .build();
    return HttpClients.custom()
        .setConnectionManager(pool)
        .setDefaultRequestConfig(requests)
        .disableRedirectHandling()
        .disableCookieManagement()
        .disableContentCompression()
        .disableAuthCaching()
        .evictExpiredConnections()
        .evictIdleConnections(IDLE_EVICTION);
  }

  private static Timeout timeout(Duration duration) {
    return Timeout.ofMilliseconds(duration.toMillis());
  }
}
