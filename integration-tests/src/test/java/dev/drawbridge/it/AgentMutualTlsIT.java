package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.Keytool;
import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Tokens;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS for agents, end to end: the proxy WAR behind an HTTPS connector that requires a client
 * certificate signed by the agent CA (as the commented agent connector in {@code
 * tomcat-conf/server.xml} does with {@code certificateVerification="required"}), and the real agent
 * jar. The agent trusts the proxy with {@code --trust-store} and presents its certificate with the
 * JVM's standard {@code -Djavax.net.ssl.keyStore}/{@code -Djavax.net.ssl.keyStorePassword}.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AgentMutualTlsIT {

  private static final String PASSWORD = "changeit";
  private static final int QUEUE_TIMEOUT_SECONDS = 2;
  /** Beyond the queue timeout, for a starved machine. */
  private static final Duration MARGIN = Duration.ofSeconds(20);
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir static Path dir;
  /** The CA that signs both the proxy's certificate and the agent's. */
  private static Path trustStore;
  private static Path serverKeys;
  private static Path agentKeys;

  /**
   * A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by it.
   * Thirteen keytool runs, each a JVM of its own: on a machine whose cores are all busy that takes
   * minutes, hence a limit of its own.
   */
  @BeforeAll
  @Timeout(value = 900, unit = TimeUnit.SECONDS)
  static void makeCertificates() throws Exception {
    Path caKeys = dir.resolve("ca.p12");
    Path caCert = dir.resolve("ca.crt");
    trustStore = dir.resolve("trust.p12");
    keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-dname", "CN=Drawbridge Test Agent CA",
        "-ext", "bc:c", "-validity", "2", "-storetype", "PKCS12", "-keystore", caKeys.toString(), "-storepass", PASSWORD);
    keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", caKeys.toString(), "-storepass", PASSWORD,
        "-file", caCert.toString());
    keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caCert.toString(), "-storetype", "PKCS12",
        "-keystore", trustStore.toString(), "-storepass", PASSWORD);
    serverKeys = signedKeys("server", "CN=localhost", caKeys, caCert, "SAN=ip:127.0.0.1,dns:localhost", "EKU=serverAuth");
    agentKeys = signedKeys("agent", "CN=test-agent", caKeys, caCert, "EKU=clientAuth");
  }

  /** A PKCS12 key store with a fresh key pair whose certificate the CA signed, chain included. */
  private static Path signedKeys(String name, String dname, Path caKeys, Path caCert, String... extensions)
      throws Exception {
    Path keys = dir.resolve(name + ".p12");
    Path request = dir.resolve(name + ".csr");
    Path cert = dir.resolve(name + ".crt");
    keytool("-genkeypair", "-alias", name, "-keyalg", "EC", "-dname", dname, "-validity", "2",
        "-storetype", "PKCS12", "-keystore", keys.toString(), "-storepass", PASSWORD);
    keytool("-certreq", "-alias", name, "-keystore", keys.toString(), "-storepass", PASSWORD,
        "-file", request.toString());
    List<String> sign = new ArrayList<>(List.of("-gencert", "-rfc", "-alias", "ca", "-keystore", caKeys.toString(),
        "-storepass", PASSWORD, "-validity", "2", "-infile", request.toString(), "-outfile", cert.toString()));
    for (String extension : extensions) {
      sign.add("-ext");
      sign.add(extension);
    }
    keytool(sign.toArray(String[]::new));
    keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caCert.toString(), "-keystore", keys.toString(),
        "-storepass", PASSWORD);
    keytool("-importcert", "-noprompt", "-alias", name, "-file", cert.toString(), "-keystore", keys.toString(),
        "-storepass", PASSWORD);
    return keys;
  }

  private static void keytool(String... args) throws Exception {
    Keytool.run(args);
  }

  /** The proxy on HTTPS, refusing any handshake without a client certificate from the CA. */
  private static ProxyServer mutualTlsProxy(String token) {
    ProxyConfig config = ProxyConfig.singleBackend("default", Tokens.sha256Hex(token))
        .backendSetting("queueTimeoutSeconds", QUEUE_TIMEOUT_SECONDS);
    return ProxyServer.start(config, ProxyServer.Options.DEFAULT.withTls(
        new ProxyServer.Tls(serverKeys, PASSWORD, trustStore, PASSWORD, true)));
  }

  /** Agent flags: trust the proxy through the CA; no client certificate unless the JVM options add one. */
  private static List<String> agentFlags(ProxyServer proxy, Backend backend, String token) {
    List<String> flags = new ArrayList<>(AgentProcess.flags(proxy.baseUrl(), backend.url(), "default", token));
    flags.addAll(List.of("--trust-store", trustStore.toString(), "--trust-store-password", PASSWORD,
        "--max-backoff", "1s"));
    return flags;
  }

  /** The test's own HTTP client; with a certificate, since the connector asks everyone for one. */
  private static HttpClient client(boolean withCertificate) throws Exception {
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(load(trustStore));
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(load(agentKeys), PASSWORD.toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(withCertificate ? keys.getKeyManagers() : null, trust.getTrustManagers(), null);
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(context).connectTimeout(WAIT)
        .build();
  }

  private static KeyStore load(Path file) throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(file)) {
      store.load(in, PASSWORD.toCharArray());
    }
    return store;
  }

  @Test
  void agentWithClientCertificateConnectsAndServesRequests() throws Exception {
    String token = Tokens.random();
    try (Backend backend = Backend.start();
        ProxyServer proxy = mutualTlsProxy(token);
        AgentProcess agent = AgentProcess.start(
            List.of("-Xmx128m", "-Djavax.net.ssl.keyStore=" + agentKeys,
                "-Djavax.net.ssl.keyStorePassword=" + PASSWORD),
            agentFlags(proxy, backend, token))) {
      assertTrue(proxy.baseUrl().startsWith("https://"), proxy.baseUrl());
      agent.awaitLine(AgentProcess.CONNECTED, WAIT);

      HttpResponse<String> response = client(true).send(
          HttpRequest.newBuilder(proxy.uri("/over-mtls?x=1")).timeout(WAIT).GET().build(),
          HttpResponse.BodyHandlers.ofString());

      assertEquals(200, response.statusCode(), response::body);
      RecordedRequest backendRequest = backend.takeRequest(WAIT);
      assertEquals("/over-mtls?x=1", backendRequest.target());
    }
  }

  @Test
  void agentWithoutClientCertificateCannotConnect() throws Exception {
    String token = Tokens.random();
    try (Backend backend = Backend.start();
        ProxyServer proxy = mutualTlsProxy(token);
        AgentProcess agent = AgentProcess.start(agentFlags(proxy, backend, token))) {
      String failure = agent.awaitLine("Cannot reach proxy .*", WAIT);
      assertTrue(agent.lines().stream().noneMatch(line -> line.contains(AgentProcess.CONNECTED)),
          () -> "the agent connected without a certificate: " + agent.lines());

      long started = System.nanoTime();
      HttpResponse<String> response = client(true).send(
          HttpRequest.newBuilder(proxy.uri("/unserved")).timeout(WAIT).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      Duration elapsed = Duration.ofNanos(System.nanoTime() - started);

      assertEquals(503, response.statusCode(), () -> response.body() + " (agent said: " + failure + ")");
      assertTrue(elapsed.compareTo(Duration.ofSeconds(QUEUE_TIMEOUT_SECONDS).plus(MARGIN)) <= 0,
          () -> "answered after " + elapsed);
      assertTrue(agent.lines().stream().noneMatch(line -> line.contains(AgentProcess.CONNECTED)),
          () -> "the agent connected without a certificate: " + agent.lines());
      assertEquals(0, backend.drainRequests().size(), "nothing reached the backend");
    }
  }

  @Test
  void connectorRefusesAnyHandshakeWithoutClientCertificate() throws Exception {
    String token = Tokens.random();
    try (ProxyServer proxy = mutualTlsProxy(token)) {
      assertThrows(IOException.class, () -> client(false).send(
          HttpRequest.newBuilder(proxy.uri("/agent-api-or-not")).timeout(WAIT).GET().build(),
          HttpResponse.BodyHandlers.ofString()));
    }
  }
}
