package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.Keytool;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.TunnelFixture;
import dev.drawbridge.it.support.WebSocketBackend;
import dev.drawbridge.it.support.WebSocketClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * WebSockets to a service on HTTPS ({@code --target https://…}): the agent speaks TLS to the
 * service itself, without a thread per connection, verifies the service's host name against the
 * JVM's trust store, and relays the bytes unchanged both ways.
 */
@Timeout(300)
class WebSocketTlsServiceIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String PASSWORD = "changeit";

  @TempDir
  static Path keys;

  private static Path trustStore;
  private static Path serviceKeys;
  private static Path otherNameKeys;
  private static HttpClient http;

  @BeforeAll
  static void makeKeys() throws Exception {
    serviceKeys = keys.resolve("service.p12");
    otherNameKeys = keys.resolve("other-name.p12");
    trustStore = keys.resolve("trust.p12");
    keyPair(serviceKeys, "service", "ip:127.0.0.1");
    keyPair(otherNameKeys, "other", "dns:elsewhere.test");
    for (String name : List.of("service", "other")) {
      Path keyStore = name.equals("service") ? serviceKeys : otherNameKeys;
      Path cert = keys.resolve(name + ".pem");
      Keytool.run("-exportcert", "-rfc", "-alias", name, "-keystore", keyStore.toString(), "-storepass", PASSWORD,
          "-file", cert.toString());
      Keytool.run("-importcert", "-noprompt", "-alias", name, "-file", cert.toString(), "-storetype", "PKCS12",
          "-keystore", trustStore.toString(), "-storepass", PASSWORD);
    }
    http = HttpClient.newHttpClient();
  }

  @AfterAll
  static void forgetClient() {
    http = null;
  }

  private static void keyPair(Path keyStore, String alias, String subjectAlternativeName) throws Exception {
    Keytool.run("-genkeypair", "-alias", alias, "-keyalg", "EC", "-dname", "CN=" + alias, "-validity", "2",
        "-ext", "SAN=" + subjectAlternativeName, "-storetype", "PKCS12", "-keystore", keyStore.toString(),
        "-storepass", PASSWORD, "-keypass", PASSWORD);
  }

  /** The agent's JVM trusts both test certificates, as an operator's trust store would. */
  private static List<String> agentJvm() {
    return List.of("-Xmx128m", "-Djavax.net.ssl.trustStore=" + trustStore, "-Djavax.net.ssl.trustStorePassword=" + PASSWORD,
        "-Djavax.net.ssl.trustStoreType=PKCS12");
  }

  private static URI ws(TunnelFixture tunnel, String path) {
    return URI.create("ws://127.0.0.1:" + tunnel.proxy().port() + "/drawbridge" + path);
  }

  @Test
  void messagesOfEverySizeComeBackIdenticalAndInOrderAndCloseCodesTravel() throws Exception {
    try (WebSocketBackend service = WebSocketBackend.startTls(serviceKeys, PASSWORD);
        TunnelFixture tunnel = TunnelFixture.startWithoutAgent(config -> config)) {
      tunnel.connectAgent(agentJvm(), service.url(), List.of());
      Random random = new Random(7);
      List<byte[]> sent = new ArrayList<>();
      try (WebSocketClient client = WebSocketClient.connect(http, ws(tunnel, "/echo"), WAIT)) {
        // 1 B to 64 KiB, then eight messages of 1 MiB, all sent without waiting for the echoes:
        // several TLS records each, and more than the relay buffers, so both directions must wait.
        for (int i = 0; i < 108; i++) {
          int size = i < 100 ? 1 + (int) ((long) i * (64 * 1024 - 1) / 99) : 1024 * 1024;
          byte[] bytes = new byte[size];
          random.nextBytes(bytes);
          sent.add(bytes);
          client.sendBinary(bytes, WAIT);
        }
        client.sendText("and text", WAIT);
        for (int i = 0; i < sent.size(); i++) {
          assertArrayEquals(sent.get(i), client.take(WAIT).binary(), "message " + i);
        }
        assertEquals("and text", client.take(WAIT).text());
        client.socket().sendClose(4001, "client is done").get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(4001, service.takeEnded(WAIT).code());
        assertEquals(4001, client.awaitEnd(WAIT).code(), "the service echoes the close code back");
      }
      tunnel.awaitIdle(WAIT);
    }
  }

  @Test
  void aServiceWhoseCertificateNamesAnotherHostIsRefusedWith502() throws Exception {
    try (WebSocketBackend service = WebSocketBackend.startTls(otherNameKeys, PASSWORD);
        TunnelFixture tunnel = TunnelFixture.startWithoutAgent(config -> config)) {
      tunnel.connectAgent(agentJvm(), service.url(), List.of());
      CompletionException failure =
          assertThrows(CompletionException.class, () -> WebSocketClient.connect(http, ws(tunnel, "/echo"), WAIT));
      assertEquals(502, ((WebSocketHandshakeException) failure.getCause()).getResponse().statusCode());
      try (RawHttp raw = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
        // With Content-Length: 0, without which Jetty 12.1 cannot switch and the proxy refuses at once.
        raw.write("GET /drawbridge/echo HTTP/1.1\r\nHost: " + tunnel.host() + "\r\nConnection: Upgrade\r\n"
            + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            + "Content-Length: 0\r\n\r\n");
        RawHttp.Head head = raw.readFinalHead();
        assertEquals(502, head.status());
        String sentence = new String(raw.body(head, "GET").readAllBytes(), StandardCharsets.UTF_8);
        // The client learns only that the service could not be reached; the proxy's log names the
        // failed TLS handshake.
        assertTrue(sentence.contains("could not be reached"), () -> "one sentence says why: " + sentence);
      }
      assertEquals(0, service.openedSessions(), "no session was opened on a service the agent could not verify");
      tunnel.awaitIdle(WAIT);
    }
  }
}
