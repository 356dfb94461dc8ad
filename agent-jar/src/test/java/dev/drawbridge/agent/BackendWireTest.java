package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.RequestHead;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the backend client really writes on the wire, read from a raw socket so that no server
 * library normalises it first.
 */
class BackendWireTest {

  private static ServerSocket server;
  private static final BlockingQueue<List<String>> heads = new LinkedBlockingQueue<>();
  private static Thread acceptor;

  @BeforeAll
  static void startRawBackend() throws IOException {
    server = new ServerSocket(0);
    acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try (Socket socket = server.accept()) {
          BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
          List<String> head = new ArrayList<>();
          for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
            head.add(line);
          }
          heads.add(head);
          OutputStream out = socket.getOutputStream();
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (IOException e) {
          // Closed by the test.
        }
      }
    }, "raw-backend");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  @AfterAll
  static void stop() throws IOException {
    server.close();
  }

  private static List<String> send(String target, boolean preserveHost) throws Exception {
    AgentConfig config = AgentConfig.defaults(URI.create("http://127.0.0.1:1"),
        URI.create("http://127.0.0.1:" + server.getLocalPort() + "/app"), "token");
    config = new AgentConfig(config.proxy(), config.target(), config.backend(), config.token(), config.agentId(),
        4, 1, config.connectTimeout(), config.backendTimeout(), config.proxyTimeout(), preserveHost,
        config.drainTimeout(), config.maxBackoff(), null, config.healthInterval(), config.transport());
    HttpHost backend = new HttpHost("http", "127.0.0.1", server.getLocalPort());
    RequestHead clientRequest = new RequestHead("ex1", "default", "GET", target,
        List.of(new HeaderField("Host", "public.example.com"), new HeaderField("Accept", "*/*")),
        BodyMode.NONE, -1, null);
    try (CloseableHttpClient backendClient = ClientFactory.backendClient(config)) {
      BackendRequest request = BackendRequest.of(clientRequest, backend, config.targetBasePath(), preserveHost);
      try (ClassicHttpResponse response = backendClient.executeOpen(backend, request, null)) {
        assertEquals("ok", EntityUtils.toString(response.getEntity()));
      }
    }
    List<String> head = heads.poll(10, TimeUnit.SECONDS);
    assertNotNull(head, "the backend received no request");
    return head;
  }

  @ParameterizedTest
  @ValueSource(strings = {"/a%2Fb?x=%20y&z=%2F", "/a/../b", "//x//y", "/%7E%E2%82%AC;m=1?q=a+b&q=c", "/raw|pipe{x}"})
  void requestLineCarriesTheClientsTargetUnchanged(String target) throws Exception {
    List<String> head = send(target, false);
    assertEquals("GET /app" + target + " HTTP/1.1", head.get(0));
  }

  @Test
  void hostIsTheTargetsAuthorityByDefault() throws Exception {
    List<String> head = send("/", false);
    assertTrue(head.contains("Host: 127.0.0.1:" + server.getLocalPort()), head.toString());
    assertFalse(head.stream().anyMatch(line -> line.regionMatches(true, 0, "User-Agent:", 0, 11)),
        "no User-Agent is invented: " + head);
  }

  @Test
  void hostIsTheClientsWithPreserveHost() throws Exception {
    List<String> head = send("/", true);
    assertTrue(head.contains("Host: public.example.com"), head.toString());
    assertEquals(1, head.stream().filter(line -> line.regionMatches(true, 0, "Host:", 0, 5)).count(), head.toString());
  }
}
