package dev.drawbridge.it.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.Bodies;
import dev.drawbridge.it.support.BuiltArtifacts;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.Tokens;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jboss.arquillian.container.test.api.Deployer;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The deployment story of docs/deploying.md, in a real container: Tomcat 11, Tomcat 10.1 and WildFly
 * each run this class once (one failsafe execution per container, see the pom), with the WAR
 * exactly as built. The test deploys and undeploys the WAR itself, because undeploying is part of
 * what it proves: held clients get 503, agents are told to reconnect, no thread outlives the WAR,
 * a bad config file is named in one log line, and a redeploy serves again.
 */
@ExtendWith(ArquillianExtension.class)
@EnabledIfSystemProperty(named = ServerUnderTest.KIND_PROPERTY, matches = ".+")
@RunAsClient
@Timeout(240)
class ContainerTunnelIT {

  private static final String DEPLOYMENT = "proxy";
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final long UPLOAD_BYTES = 256 * 1024;
  private static final long DOWNLOAD_BYTES = 8 * 1024 * 1024;
  /** The proxy's maxRequestBodyBytes here: above UPLOAD_BYTES, so only the oversized upload is refused. */
  private static final long MAX_BODY_BYTES = 1024 * 1024;

  /** Tomcat's warnings when a web application leaves threads, timers or thread-locals behind. */
  private static final String LEAK_WARNING =
      "web application \\[/?drawbridge\\].*(memory leak|failed to stop|failed to remove|failed to unregister)";

  private final ServerUnderTest server = ServerUnderTest.current();
  private final String proxyUrl = server.proxyBaseUrl();
  private final String agentToken = Tokens.random();
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();

  @ArquillianResource private Deployer deployer;

  /** Arquillian would undeploy twice when asked twice; the test tracks the WAR's state itself. */
  private boolean deployed;

  /** The WAR exactly as built; deployed by the test, so it can write the config first. */
  @Deployment(name = DEPLOYMENT, managed = false, testable = false)
  static WebArchive proxyWar() {
    return ShrinkWrap.createFromZipFile(WebArchive.class, BuiltArtifacts.proxyWarFile().toFile());
  }

  @Test
  void deployServeUndeployAndRedeploy() throws Exception {
    server.writeConfig(
        ProxyConfig.singleBackend("default", Tokens.sha256Hex(agentToken)).set("maxRequestBodyBytes", MAX_BODY_BYTES));
    server.grantAdmin("admin", "admin-secret");
    ServerLog serverLog = server.log();

    try (Backend backend = Backend.start();
        AgentProcess agent = AgentProcess.start(agentFlags(backend))) {
      backend.respondTo("/download", Responders.chunkedDownload(DOWNLOAD_BYTES));
      backend.respondTo("/held", Responders.stall());
      deploy();
      try {
        agent.awaitLine(AgentProcess.CONNECTED, WAIT);
        requestsOfEachKindGoThrough(backend);
        expectContinueIsAnsweredOnlyForABodyTheProxyTakes(backend);
        adminApiAnswers();
        heldClientGets503AndAgentIsToldToReconnect(backend, agent);
      } finally {
        undeploy();
      }

      badConfigIsNamedInOneLogLine(serverLog);
      if (server.isTomcat()) {
        // Tomcat checks for leftover threads, timers and thread-locals when a WAR stops, and its
        // log is written in order: the bad-config line above was logged after that undeploy.
        assertEquals(List.of(), serverLog.linesMatching(LEAK_WARNING), "Tomcat found leaks after undeploy");
      }

      server.writeConfig(ProxyConfig.singleBackend("default", Tokens.sha256Hex(agentToken)));
      deploy();
      try {
        agent.awaitLine(AgentProcess.CONNECTED, WAIT);
        assertEquals(200, get("/after-redeploy").statusCode(), "a redeployed WAR serves again");
      } finally {
        undeploy();
      }
    }
  }

  private void deploy() {
    deployed = true; // set first: a failed deployment leaves a stopped context behind to remove
    deployer.deploy(DEPLOYMENT);
  }

  /** Undeploys the WAR unless it is already gone. */
  private void undeploy() {
    if (deployed) {
      deployed = false;
      deployer.undeploy(DEPLOYMENT);
    }
  }

  private List<String> agentFlags(Backend backend) {
    List<String> flags = new ArrayList<>(AgentProcess.flags(proxyUrl, backend.url(), "default", agentToken));
    // The proxy goes away twice in this test; reconnect quickly when it is back.
    flags.addAll(List.of("--max-backoff", "1s"));
    return flags;
  }

  /** A GET with a query, a POST whose body streams, a download that streams back. */
  private void requestsOfEachKindGoThrough(Backend backend) throws Exception {
    HttpResponse<String> getResponse = get("/hello?x=1&y=a%2Fb");
    assertEquals(200, getResponse.statusCode(), getResponse::body);
    assertEquals("/hello?x=1&y=a%2Fb", backend.takeRequest(WAIT).target());

    HttpResponse<String> postResponse =
        client.send(
            HttpRequest.newBuilder(URI.create(proxyUrl + "/upload"))
                .timeout(WAIT)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> Bodies.pattern(UPLOAD_BYTES)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, postResponse.statusCode(), postResponse::body);
    RecordedRequest upload = backend.takeRequest(WAIT);
    assertEquals("POST", upload.method());
    assertEquals(UPLOAD_BYTES, upload.bodyLength());
    assertEquals(Bodies.patternSha256(UPLOAD_BYTES), upload.bodySha256());

    HttpResponse<InputStream> download =
        client.send(
            HttpRequest.newBuilder(URI.create(proxyUrl + "/download")).timeout(WAIT).build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, download.statusCode());
    try (InputStream body = download.body()) {
      Bodies.Summary received = Bodies.summarize(body, 0);
      assertEquals(DOWNLOAD_BYTES, received.length());
      assertEquals(Bodies.patternSha256(DOWNLOAD_BYTES), received.sha256());
    }
    backend.takeRequest(WAIT);
  }

  /**
   * A client that asks before uploading ({@code Expect: 100-continue}) is told 413 at once when its
   * declared body is over {@code maxRequestBodyBytes}, without a 100 that would invite the upload
   * (tomcat-conf's {@code continueResponseTiming="onRead"}); a body the proxy takes gets its 100
   * and goes through.
   */
  private void expectContinueIsAnsweredOnlyForABodyTheProxyTakes(Backend backend) throws Exception {
    String host = "127.0.0.1:" + server.httpPort();
    try (RawHttp client = RawHttp.connect(server.httpPort(), WAIT)) {
      client.write("POST /drawbridge/too-large HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: " + (MAX_BODY_BYTES + 1)
          + "\r\nExpect: 100-continue\r\n\r\n");
      RawHttp.Head head = server.isTomcat() ? client.readHead() : client.readFinalHead();
      assertEquals(413, head.status(), () -> "the first answer to an oversized body: " + head);
    }
    byte[] body = new byte[1000];
    java.util.Arrays.fill(body, (byte) 'x');
    try (RawHttp client = RawHttp.connect(server.httpPort(), WAIT)) {
      client.write("POST /drawbridge/expect-continue HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: " + body.length
          + "\r\nExpect: 100-continue\r\n\r\n");
      RawHttp.Head interim = client.readHead();
      assertEquals(100, interim.status(), () -> "a body the proxy takes is asked for: " + interim);
      client.write(body);
      RawHttp.Response response = client.readResponse("POST");
      assertEquals(200, response.status(), response::bodyText);
    }
    RecordedRequest upload = backend.takeRequest(WAIT);
    assertEquals("/expect-continue", upload.target());
    assertEquals(body.length, upload.bodyLength());
  }

  /** The status API answers the realm's drawbridge-admin user and shows the connected agent. */
  private void adminApiAnswers() {
    AdminStatus status = AdminStatus.read(proxyUrl);
    assertEquals(1, status.backend("default").agents().size(), () -> "one agent in " + status);
    HttpResponse<String> anonymous = get(AdminStatus.PATH);
    assertEquals(401, anonymous.statusCode(), "the admin API needs the container's login");
  }

  private void heldClientGets503AndAgentIsToldToReconnect(Backend backend, AgentProcess agent)
      throws Exception {
    CompletableFuture<HttpResponse<String>> held =
        client.sendAsync(
            HttpRequest.newBuilder(URI.create(proxyUrl + "/held")).timeout(WAIT.multipliedBy(2)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals("/held", backend.takeRequest(WAIT).target(), "the held request reached the backend");

    undeploy();

    HttpResponse<String> heldResponse = held.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(503, heldResponse.statusCode(), heldResponse::body);
    assertTrue(heldResponse.headers().firstValue("Retry-After").isPresent(), "503 says when to retry");
    agent.awaitLine("The proxy is shutting down", WAIT);
  }

  /**
   * A config file with a bad value stops the deployment, and the container's own log says which
   * file, key and reason in one line, not only inside a stack trace.
   */
  private void badConfigIsNamedInOneLogLine(ServerLog serverLog) {
    server.writeConfig("{\"backends\": [{\"id\": \"default\", \"agentTokenSha256\": [\"not-a-digest\"]}]}");
    assertThrows(Exception.class, () -> deploy(), "a bad config must stop the deployment");
    try {
      String line =
          serverLog.awaitLine(
              "Drawbridge did not start: .*drawbridge\\.json: key 'backends\\[0\\]\\.agentTokenSha256\\[0\\]': ",
              WAIT);
      assertTrue(line.contains("must be 64 lowercase hexadecimal characters"), line);
    } finally {
      undeploy();
    }
  }

  private HttpResponse<String> get(String path) {
    try {
      return client.send(
          HttpRequest.newBuilder(URI.create(proxyUrl + path)).timeout(WAIT).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      throw new AssertionError("GET " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
