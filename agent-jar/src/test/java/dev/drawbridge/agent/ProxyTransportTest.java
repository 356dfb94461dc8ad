package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The agent-to-proxy leg's TLS verification with {@code --trust-store}, and {@code --egress-proxy}. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProxyTransportTest {

  private static final String PASSWORD = "changeit";

  @TempDir static Path dir;
  private static Path proxyKeys;
  private static Path trustStore;

  private final List<Server> servers = new ArrayList<>();
  private final BlockingQueue<String> seen = new LinkedBlockingQueue<>();

  /** A self-signed certificate for 127.0.0.1 (the proxy's), and a trust store holding only it. */
  @BeforeAll
  static void makeCertificates() throws Exception {
    proxyKeys = dir.resolve("proxy.p12");
    trustStore = dir.resolve("trust.p12");
    Path cert = dir.resolve("proxy.crt");
    Keytool.run("-genkeypair", "-alias", "proxy", "-keyalg", "EC", "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1",
        "-validity", "2", "-storetype", "PKCS12", "-keystore", proxyKeys.toString(), "-storepass", PASSWORD);
    Keytool.run("-exportcert", "-alias", "proxy", "-keystore", proxyKeys.toString(), "-storepass", PASSWORD,
        "-file", cert.toString());
    Keytool.run("-importcert", "-noprompt", "-alias", "proxy-ca", "-file", cert.toString(), "-storetype", "PKCS12",
        "-keystore", trustStore.toString(), "-storepass", PASSWORD);
  }

  @AfterEach
  void stop() throws Exception {
    for (Server server : servers) {
      server.stop();
    }
  }

  private final Handler recorder =
      new Handler.Abstract() {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
          seen.add(request.getHttpURI().toString());
          response.setStatus(200);
          callback.succeeded();
          return true;
        }
      };

  private int serve(boolean tls) throws Exception {
    Server server = new Server();
    ServerConnector connector;
    if (tls) {
      SslContextFactory.Server ssl = new SslContextFactory.Server();
      ssl.setKeyStorePath(proxyKeys.toString());
      ssl.setKeyStorePassword(PASSWORD);
      connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory());
    } else {
      connector = new ServerConnector(server);
    }
    connector.setHost("127.0.0.1");
    server.addConnector(connector);
    server.setHandler(recorder);
    server.start();
    servers.add(server);
    return connector.getLocalPort();
  }

  private static CloseableHttpClient client(String proxyUrl, ProxyTransport transport) {
    AgentConfig defaults = AgentConfig.defaults(URI.create(proxyUrl), URI.create("http://127.0.0.1:9"), "t");
    AgentConfig config = new AgentConfig(defaults.proxy(), defaults.target(), defaults.backend(), defaults.token(),
        defaults.agentId(), 1, 1, defaults.connectTimeout(), defaults.backendTimeout(), defaults.proxyTimeout(), false,
        defaults.drainTimeout(), defaults.maxBackoff(), null, defaults.healthInterval(), transport);
    return ClientFactory.proxyClient(config);
  }

  private static int status(CloseableHttpClient client, String url) throws Exception {
    return client.execute(new HttpGet(url), response -> response.getCode());
  }

  @Test
  void trustsAProxyCertificateFromTheTrustStore() throws Exception {
    int port = serve(true);
    try (CloseableHttpClient client = client("https://127.0.0.1:" + port, new ProxyTransport(trustStore, PASSWORD, null))) {
      assertEquals(200, status(client, "https://127.0.0.1:" + port + "/drawbridge/x"));
    }
  }

  @Test
  void refusesTheSameCertificateWithoutTheTrustStore() throws Exception {
    int port = serve(true);
    try (CloseableHttpClient client = client("https://127.0.0.1:" + port, ProxyTransport.DEFAULT)) {
      assertThrows(SSLException.class, () -> status(client, "https://127.0.0.1:" + port + "/drawbridge/x"));
    }
    assertEquals(null, seen.poll(), "nothing reached the server, so no token did either");
  }

  @Test
  void refusesATrustedCertificateForAnotherHostName() throws Exception {
    int port = serve(true);
    try (CloseableHttpClient client = client("https://localhost:" + port, new ProxyTransport(trustStore, PASSWORD, null))) {
      assertThrows(SSLException.class, () -> status(client, "https://localhost:" + port + "/drawbridge/x"));
    }
  }

  @Test
  void aWrongTrustStorePasswordIsOneClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> client("https://127.0.0.1:1", new ProxyTransport(trustStore, "wrong", null)));
    assertTrue(e.getMessage().startsWith("cannot load trust store "), e.getMessage());
  }

  @Test
  void sendsEveryProxyCallThroughTheEgressProxy() throws Exception {
    int egressPort = serve(false);
    // Port 1 is closed: only the forward proxy can answer.
    try (CloseableHttpClient client =
        client("http://127.0.0.1:1", new ProxyTransport(null, null, URI.create("http://127.0.0.1:" + egressPort)))) {
      assertEquals(200, status(client, "http://127.0.0.1:1/drawbridge/_drawbridge/agent/v1/poll"));
    }
    assertEquals("http://127.0.0.1:1/drawbridge/_drawbridge/agent/v1/poll", seen.poll(10, TimeUnit.SECONDS));
  }

  @Test
  void trustStoreFilesAreReadable() {
    assertTrue(Files.isReadable(trustStore));
  }
}
