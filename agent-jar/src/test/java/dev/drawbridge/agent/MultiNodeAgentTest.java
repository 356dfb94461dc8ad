package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.RequestHead;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import org.awaitility.Awaitility;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One agent attached to several proxy nodes behind one host name: three scripted proxies on three
 * loopback addresses and one port, with a TLS certificate that names only {@value #NAME}, and a
 * name table the test changes as nodes come and go.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class MultiNodeAgentTest {

  private static final String NAME = "proxy.test";
  private static final String PASSWORD = "changeit";
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir static Path dir;
  private static Path keys;
  private static Path trust;

  private final List<Server> servers = new ArrayList<>();
  private final Map<String, InetAddress[]> names = new ConcurrentHashMap<>();
  private final List<FakeProxy> nodes = new ArrayList<>();
  private final List<BlockingQueue<String>> serverNames = new ArrayList<>();
  private int port;
  private int backendPort;
  private Agent agent;

  @BeforeAll
  static void certificate() throws Exception {
    keys = dir.resolve("proxy.p12");
    trust = dir.resolve("trust.p12");
    Path cert = dir.resolve("proxy.crt");
    // The name only, no address: a node is accepted only if checked against the name.
    Keytool.run("-genkeypair", "-alias", "proxy", "-keyalg", "EC", "-dname", "CN=" + NAME, "-ext", "SAN=dns:" + NAME,
        "-validity", "2", "-storetype", "PKCS12", "-keystore", keys.toString(), "-storepass", PASSWORD);
    Keytool.run("-exportcert", "-alias", "proxy", "-keystore", keys.toString(), "-storepass", PASSWORD, "-file",
        cert.toString());
    Keytool.run("-importcert", "-noprompt", "-alias", "proxy-ca", "-file", cert.toString(), "-storetype", "PKCS12",
        "-keystore", trust.toString(), "-storepass", PASSWORD);
  }

  @BeforeEach
  void start() throws Exception {
    for (int i = 0; i < 3; i++) {
      FakeProxy node = new FakeProxy();
      BlockingQueue<String> sni = new LinkedBlockingQueue<>();
      port = serveTls(node, "127.0.0." + (i + 2), port, sni);
      nodes.add(node);
      serverNames.add(sni);
    }
    Server backend = new Server();
    ServerConnector connector = new ServerConnector(backend);
    connector.setHost("127.0.0.1");
    backend.addConnector(connector);
    backend.setHandler(new TestBackend());
    backend.start();
    servers.add(backend);
    backendPort = connector.getLocalPort();
  }

  @AfterEach
  void stop() throws Exception {
    if (agent != null) {
      agent.close();
    }
    for (Server server : servers) {
      server.stop();
    }
  }

  /** A TLS server on {@code address}, on {@code port} or (when 0) one the OS picks; records each request's SNI. */
  private int serveTls(org.eclipse.jetty.server.Handler handler, String address, int port, BlockingQueue<String> sni)
      throws Exception {
    Server server = new Server();
    SslContextFactory.Server ssl = new SslContextFactory.Server();
    ssl.setKeyStorePath(keys.toString());
    ssl.setKeyStorePassword(PASSWORD);
    ServerConnector connector =
        new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory());
    connector.setHost(address);
    connector.setPort(port);
    server.addConnector(connector);
    server.setHandler(new org.eclipse.jetty.server.Handler.Wrapper(handler) {
      @Override
      public boolean handle(Request request, Response response, Callback callback) throws Exception {
        EndPoint.SslSessionData tls = request.getConnectionMetaData().getConnection().getEndPoint().getSslSessionData();
        if (tls != null && tls.sslSession() instanceof ExtendedSSLSession session) {
          for (SNIServerName name : session.getRequestedServerNames()) {
            if (name instanceof SNIHostName host) {
              sni.add(host.getAsciiName());
            }
          }
        }
        return super.handle(request, response, callback);
      }
    });
    server.start();
    servers.add(server);
    return connector.getLocalPort();
  }

  private void resolve(String name, int... lastOctets) throws UnknownHostException {
    InetAddress[] addresses = new InetAddress[lastOctets.length];
    for (int i = 0; i < lastOctets.length; i++) {
      addresses[i] = InetAddress.getByAddress(name, new byte[] {127, 0, 0, (byte) lastOctets[i]});
    }
    names.put(name, addresses);
  }

  private Agent startAgent(String name, int concurrency) {
    AgentConfig config = new AgentConfig(
        URI.create("https://" + name + ":" + port + FakeProxy.CONTEXT), URI.create("http://127.0.0.1:" + backendPort),
        "default", "s3cret", "multi-node-agent", concurrency, 1, Duration.ofSeconds(5), Duration.ofSeconds(10),
        Duration.ofSeconds(10), false, Duration.ofSeconds(5), Duration.ofSeconds(1), null, Duration.ofSeconds(5),
        new ProxyTransport(trust, PASSWORD, null, Duration.ofMillis(200)));
    NodeResolver resolver = new NodeResolver(host -> {
      InetAddress[] addresses = names.get(host);
      if (addresses == null) {
        throw new UnknownHostException(host);
      }
      return addresses;
    }, false);
    agent = new Agent(config, resolver);
    agent.start();
    return agent;
  }

  private static RequestHead get(String id) {
    return new RequestHead(id, "default", "GET", "/hello", List.of(), BodyMode.NONE, -1, null);
  }

  private static FakeProxy.Poll nextPoll(FakeProxy node) throws InterruptedException {
    FakeProxy.Poll poll = node.polls.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertNotNull(poll, "no poll reached the node");
    return poll;
  }

  @Test
  void pollsEveryAddressOfTheNameAsTheNameAndAnswersEachOnItsOwnNode() throws Exception {
    resolve(NAME, 2, 3);
    startAgent(NAME, 4);
    for (int i = 0; i < 2; i++) {
      FakeProxy.Poll poll = nextPoll(nodes.get(i));
      assertEquals(NAME + ":" + port, poll.headers().get("Host"), "Host names the name, not the address");
      assertEquals(NAME, serverNames.get(i).poll(WAIT.toSeconds(), TimeUnit.SECONDS), "TLS server name");
    }
    await(() -> agent.nodesReport().equals(
        NAME + "/127.0.0.2:" + port + "=connected," + NAME + "/127.0.0.3:" + port + "=connected"));
    // Polls sent before the second node connected may still be queued at the first: the first poll
    // sent after that reports both.
    String bothConnected = NAME + "/127.0.0.2:" + port + "=connected," + NAME + "/127.0.0.3:" + port + "=connected";
    String reported;
    do {
      reported = nextPoll(nodes.get(0)).headers().get(Protocol.AGENT_NODES_HEADER);
    } while (!bothConnected.equals(reported) && reported.contains("=starting"));
    assertEquals(bothConnected, reported);

    nodes.get(1).deliver(get("on-second"));
    assertEquals(200, nodes.get(1).upload("on-second").head().status(), "answered to the node that delivered it");
    assertFalse(nodes.get(0).uploads.containsKey("on-second"));
    assertTrue(nodes.get(2).polls.isEmpty(), "a node the name does not resolve to is left alone");
  }

  @Test
  void attachesToANewAddressAndLetsGoOfARemovedOne() throws Exception {
    resolve(NAME, 2);
    startAgent(NAME, 4);
    nextPoll(nodes.get(0));

    resolve(NAME, 2, 4);
    nextPoll(nodes.get(2));
    nodes.get(2).deliver(get("on-new-node"));
    assertEquals(200, nodes.get(2).upload("on-new-node").head().status());

    resolve(NAME, 4);
    assertNotNull(nodes.get(0).goodbyes.poll(WAIT.toSeconds(), TimeUnit.SECONDS), "the removed node is told");
    await(() -> agent.nodesReport().equals(NAME + "/127.0.0.4:" + port + "=connected"));
    nodes.get(0).polls.clear();
    // A poll would come within the fake proxy's 200 ms hold; none comes in five times that.
    assertNull(nodes.get(0).polls.poll(1, TimeUnit.SECONDS), "no poll after letting go");
    nodes.get(2).deliver(get("still-served"));
    assertEquals(200, nodes.get(2).upload("still-served").head().status());
  }

  @Test
  void aNameThatStopsResolvingKeepsItsNodes() throws Exception {
    resolve(NAME, 2);
    startAgent(NAME, 4);
    nextPoll(nodes.get(0));
    names.remove(NAME);
    nodes.get(0).polls.clear();
    nextPoll(nodes.get(0));
    nodes.get(0).deliver(get("during-dns-outage"));
    assertEquals(200, nodes.get(0).upload("during-dns-outage").head().status());
  }

  @Test
  void aCertificateForAnotherNameIsRefused() throws Exception {
    resolve("other.test", 2);
    List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
    Logger linkLog = Logger.getLogger(ProxyLink.class.getName());
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord record) {
        warnings.add(record.getMessage());
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    linkLog.addHandler(capture);
    try {
      startAgent("other.test", 4);
      await(() -> warnings.stream().anyMatch(line -> line.startsWith("Cannot reach proxy https://other.test:" + port
          + "/drawbridge at 127.0.0.2:" + port + ": ")));
      assertFalse(agent.isConnected());
    } finally {
      linkLog.removeHandler(capture);
    }
  }

  private static void await(java.util.concurrent.Callable<Boolean> condition) {
    Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(condition);
  }
}
