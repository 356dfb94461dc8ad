package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Both legs of the agent open their sockets without Nagle's delay. */
@Timeout(10)
class ClientFactoryTest {

  private final AgentConfig config =
      AgentConfig.defaults(URI.create("http://127.0.0.1:1"), URI.create("http://127.0.0.1:2"), "t");

  @Test
  void socketsToTheProxyAndTheBackendSetTcpNoDelay() {
    try (PoolingHttpClientConnectionManager proxy = ClientFactory.proxyPool(config, new ProxyNode(config.proxy(), null));
        PoolingHttpClientConnectionManager backend = ClientFactory.backendPool(config)) {
      assertTrue(proxy.getDefaultSocketConfig().isTcpNoDelay(), "agent to proxy");
      assertTrue(backend.getDefaultSocketConfig().isTcpNoDelay(), "agent to backend");
    }
  }
}
