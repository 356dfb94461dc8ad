package dev.drawbridge.it.container;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.AdminStatus;
import dev.drawbridge.it.support.AgentProcess;
import dev.drawbridge.it.support.Backend;
import dev.drawbridge.it.support.Bodies;
import dev.drawbridge.it.support.Browser;
import dev.drawbridge.it.support.BuiltArtifacts;
import dev.drawbridge.it.support.EarlyAnsweringService;
import dev.drawbridge.it.support.ProxyConfig;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.RawWebSocket;
import dev.drawbridge.it.support.RecordedRequest;
import dev.drawbridge.it.support.Responders;
import dev.drawbridge.it.support.Tokens;
import dev.drawbridge.it.support.WebAppBackend;
import dev.drawbridge.it.support.WebSocketBackend;
import dev.drawbridge.it.support.WebSocketClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
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
 * an upload its client abandons breaks off at the service and leaves nothing in flight,
 * a bad config file is named in one log line, and each of {@value #REDEPLOYS} redeploys serves
 * again. On Tomcat, no undeploy leaves a leak Tomcat reports, and the number of web application
 * class loaders reachable after a full GC does not grow from one redeploy to the next.
 */
@ExtendWith(ArquillianExtension.class)
@EnabledIfSystemProperty(named = ServerUnderTest.KIND_PROPERTY, matches = ".+")
@RunAsClient
@Timeout(900)
class ContainerTunnelIT {

  private static final String DEPLOYMENT = "proxy";
  private static final Duration WAIT = Duration.ofSeconds(60);
  /** More handshakes at once than WildFly's worker has threads on a two-core machine (32). */
  private static final int HANDSHAKE_BURST = 48;
  private static final long UPLOAD_BYTES = 256 * 1024;
  /** Above WildFly's default max-post-size (10 MiB), which must not cut the agent's response call. */
  private static final long DOWNLOAD_BYTES = 12 * 1024 * 1024;
  /** Above WildFly's default max-post-size too, and below the proxy's default maxRequestBodyBytes. */
  private static final int LARGE_UPLOAD_BYTES = 12 * 1024 * 1024;
  /** Declared by an upload the service answers early; under WildFly's default max-post-size (10 MiB). */
  private static final long EARLY_ANSWERED_UPLOAD_BYTES = 8 * 1024 * 1024;
  /** The proxy's maxRequestBodyBytes here: above UPLOAD_BYTES, so only the oversized upload is refused. */
  private static final long MAX_BODY_BYTES = 1024 * 1024;
  /** Declared by an upload its client abandons after {@link #ABANDONED_AFTER_BYTES}. */
  private static final long ABANDONED_UPLOAD_BYTES = 512 * 1024;
  /** Over the proxy's inline limit (64 KiB): the body streams to the agent while it arrives. */
  private static final int ABANDONED_AFTER_BYTES = 192 * 1024;

  /**
   * Tomcat's warnings when a web application leaves threads, timers or thread-locals behind. Not
   * for Tomcat's own utility threads: one of them runs each context's background processing with
   * the context's class loader set, and an undeploy that meets it there names it as a thread the
   * application started (the class loader count below would show a real leak).
   */
  private static final String LEAK_WARNING = "web application \\[/?drawbridge\\]"
      + "(?!.*thread named \\[Catalina-utility-\\d+\\]).*(memory leak|failed to stop|failed to remove|failed to unregister)";

  /** Deploy, serve, undeploy cycles after the first one; each could leave something behind. */
  static final int REDEPLOYS = 10;

  /** Tomcat's line once an undeploy is done, after whatever it found when the WAR stopped. */
  private static final String TOMCAT_UNDEPLOYED = "HostConfig\\.undeploy Undeploying context \\[/drawbridge\\]";

  /** How long a thread still finishing a request of an undeployed WAR may keep its class loader. */
  private static final Duration LOADERS_COLLECTED_WITHIN = Duration.ofSeconds(60);

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
    server.writeConfig(withWebSocketBackend(
        ProxyConfig.singleBackend("default", Tokens.sha256Hex(agentToken)).set("maxRequestBodyBytes", MAX_BODY_BYTES)));
    server.grantAdmin("admin", "admin-secret");
    ServerLog serverLog = server.log();
    List<Long> loaders = new ArrayList<>();
    if (server.isTomcat()) {
      loaders.add(webAppClassLoaders());
    }

    try (Backend backend = Backend.start();
        WebSocketBackend webSockets = WebSocketBackend.start();
        WebAppBackend webApp = WebAppBackend.start();
        EarlyAnsweringService early = EarlyAnsweringService.start(WAIT);
        AgentProcess agent = AgentProcess.start(agentFlags(backend));
        AgentProcess webSocketAgent = AgentProcess.start(webSocketAgentFlags(webSockets, webApp, early))) {
      backend.respondTo("/download", Responders.chunkedDownload(DOWNLOAD_BYTES));
      backend.respondTo("/held", Responders.stall());
      deploy();
      try {
        agent.awaitLine(AgentProcess.CONNECTED, WAIT);
        webSocketAgent.awaitLine(AgentProcess.CONNECTED, WAIT);
        requestsOfEachKindGoThrough(backend);
        uploadsTheClientsAbandonBreakOffAtTheService(backend);
        webSocketsGoThrough(webSockets);
        webSocketAgent.awaitLine(AgentProcess.CONNECTED, WAIT);
        aWebApplicationWorksInABrowser();
        aBurstOfHandshakesLeavesTheAgentsAThread();
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

      for (int redeploy = 1; redeploy <= REDEPLOYS; redeploy++) {
        server.writeConfig(withWebSocketBackend(ProxyConfig.singleBackend("default", Tokens.sha256Hex(agentToken))));
        deploy();
        try {
          agent.awaitLine(AgentProcess.CONNECTED, WAIT);
          assertEquals(200, get("/after-redeploy").statusCode(), "redeploy " + redeploy + " serves again");
          if (redeploy == 1) {
            aLargeChunkedUploadGoesThroughWithTheDefaults(backend);
            anUploadAnsweredEarlyGetsItsAnswerWhileItIsSent(early);
          }
        } finally {
          undeploy();
        }
        if (server.isTomcat()) {
          loaders.add(webAppClassLoaders());
        }
      }
    }
    if (server.isTomcat()) {
      // The first undeploy, the failed deployment's and one per redeploy; each logs its leaks first.
      serverLog.awaitLines(TOMCAT_UNDEPLOYED, 2 + REDEPLOYS, WAIT);
      assertEquals(List.of(), serverLog.linesMatching(LEAK_WARNING), "Tomcat found leaks in " + REDEPLOYS + " redeploys");
      classLoadersDoNotGrow(loaders);
    }
  }

  /**
   * A WAR that leaks keeps one more class loader reachable with every redeploy. {@code loaders}
   * holds the count before the first deployment, then after each redeploy's undeploy: the last may
   * not exceed the one after the first redeploy. Waits for that, since a thread may still be
   * finishing a request of the WAR it just undeployed.
   */
  private void classLoadersDoNotGrow(List<Long> loaders) {
    long afterFirstRedeploy = loaders.get(1);
    try {
      await("web application class loaders to be no more than after the first redeploy, " + afterFirstRedeploy)
          .atMost(LOADERS_COLLECTED_WITHIN)
          .pollInterval(Duration.ofSeconds(2))
          .until(() -> webAppClassLoaders() <= afterFirstRedeploy);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          "Web application class loaders reachable in Tomcat after a full GC grow with each redeploy (before the"
              + " first deployment, then after each redeploy): " + loaders + "; the WAR leaks its class loader",
          e);
    }
    System.out.println(
        "Web application class loaders reachable in Tomcat after a full GC, before the first deployment and then"
            + " after each of " + REDEPLOYS + " redeploys: " + loaders);
  }

  /** Tomcat's web application class loaders reachable after a full GC of its JVM. */
  private long webAppClassLoaders() {
    try (ContainerJvm jvm = ContainerJvm.connect(server.jmxPort())) {
      return jvm.liveInstances(ContainerJvm.TOMCAT_WEBAPP_CLASS_LOADER);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A second backend, {@code ws}, for WebSockets under {@code /ws/}, a third, {@code app}, for a
   * web application under {@code /app/}, and a fourth, {@code early}, for a service that answers
   * uploads before reading them, under {@code /early/}; everything else goes to {@code default} as
   * before.
   */
  private ProxyConfig withWebSocketBackend(ProxyConfig config) {
    return config
        .backend("ws", Tokens.sha256Hex(agentToken))
        .backend("app", Tokens.sha256Hex(agentToken))
        .backend("early", Tokens.sha256Hex(agentToken))
        .set("routes", List.of(
            java.util.Map.of("pathPrefix", "/ws", "stripPrefix", true, "backend", "ws"),
            java.util.Map.of("pathPrefix", "/app", "backend", "app"),
            java.util.Map.of("pathPrefix", "/early", "backend", "early"),
            java.util.Map.of("pathPrefix", "/", "backend", "default")));
  }

  /** One agent for the WebSocket service, the web application and the early-answering service. */
  private List<String> webSocketAgentFlags(WebSocketBackend webSockets, WebAppBackend webApp, EarlyAnsweringService early) {
    return List.of("--proxy", proxyUrl, "--route", "ws=" + webSockets.url(), "--route", "app=" + webApp.url(),
        "--route", "early=" + early.url(), "--token", agentToken, "--max-backoff", "1s");
  }

  /**
   * A single-page web application in headless Chromium (see {@link WebAppBackend}): page, style
   * sheet, compressed script, images, cookie, JSON, Server-Sent Events and a WebSocket, each must
   * work through the container.
   */
  private void aWebApplicationWorksInABrowser() throws Exception {
    if (!Browser.available()) {
      System.out.println("Skipped the browser part: " + Browser.MISSING);
      return;
    }
    assertEquals(WebAppBackend.ALL_WORKED, WebAppBackend.resultsInBrowser(proxyUrl + "/app/", WAIT), "in " + server.kind());
  }

  /**
   * A WebSocket echo through the container's Servlet protocol upgrade: the JDK's client (text, a
   * 64 KiB binary message, a close code), and a hand-written handshake without Content-Length, as
   * browsers send it.
   */
  private void webSocketsGoThrough(WebSocketBackend webSockets) throws Exception {
    int port = URI.create(proxyUrl).getPort();
    String path = URI.create(proxyUrl).getPath() + "/ws/echo";
    try (RawWebSocket browserLike = RawWebSocket.connect(port, path, WAIT, "Origin: http://127.0.0.1:" + port)) {
      assertEquals(101, browserLike.status());
      assertTrue(browserLike.acceptMatches(), "Sec-WebSocket-Accept answers the key");
      browserLike.sendText("no Content-Length", false);
      RawWebSocket.Frame echoed = browserLike.readFrame();
      if (!"no Content-Length".equals(echoed.text())) {
        throw new AssertionError("frame opcode " + echoed.opcode() + " of " + echoed.payload().length + " bytes, then "
            + browserLike.readRaw(400) + "; answer headers " + browserLike.headers());
      }
      browserLike.sendFrame(0x8, false, new byte[] {0x03, (byte) 0xE8});
      assertEquals(0x8, browserLike.readFrame().opcode());
    }
    assertEquals(1000, webSockets.takeEnded(WAIT).code());
    URI uri = URI.create(proxyUrl.replaceFirst("^http", "ws") + "/ws/echo");
    byte[] binary = Bodies.pattern(64 * 1024).readAllBytes();
    try (WebSocketClient webSocket = WebSocketClient.connect(client, uri, WAIT)) {
      webSocket.sendText("hello through " + server.kind(), WAIT);
      webSocket.sendBinary(binary, WAIT);
      assertEquals("hello through " + server.kind(), webSocket.take(WAIT).text());
      assertArrayEquals(binary, webSocket.take(WAIT).binary());
      webSocket.socket().sendClose(4001, "done").get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertEquals(4001, webSockets.takeEnded(WAIT).code(), "the close code reached the service");
      assertEquals(4001, webSocket.awaitEnd(WAIT).code(), "and came back");
    }
  }

  /**
   * Handshakes arriving all at once each hold a request thread until the backend answers; more of
   * them than the container has threads (WildFly's worker has 32 on two cores) must not take every
   * thread, or the agent's calls that carry the answers could never arrive: the handshakes would
   * stall until their timeout (504) and the agent be taken for lost (502). Each gets 101 or, over
   * the limit, an immediate 503.
   */
  private void aBurstOfHandshakesLeavesTheAgentsAThread() throws Exception {
    int port = URI.create(proxyUrl).getPort();
    String path = URI.create(proxyUrl).getPath() + "/ws/echo";
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService clients = Executors.newFixedThreadPool(HANDSHAKE_BURST);
    try {
      List<Future<Integer>> answers = new ArrayList<>();
      for (int i = 0; i < HANDSHAKE_BURST; i++) {
        String text = "burst " + i;
        answers.add(clients.submit(() -> {
          start.await();
          try (RawWebSocket socket = RawWebSocket.connect(port, path, WAIT)) {
            if (socket.status() == 101) {
              socket.sendText(text, false);
              assertEquals(text, socket.readFrame().text(), "the echo of a WebSocket of the burst");
            } else {
              assertEquals(503, socket.status(), "a handshake over the limit is refused at once");
              assertTrue(socket.header("Retry-After") != null, "with Retry-After");
            }
            return socket.status();
          }
        }));
      }
      start.countDown();
      int switched = 0;
      for (Future<Integer> answer : answers) {
        if (answer.get(2 * WAIT.toSeconds(), TimeUnit.SECONDS) == 101) {
          switched++;
        }
      }
      assertTrue(switched > 0, "some handshakes of the burst switched");
    } finally {
      clients.shutdownNow();
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
   * A client that closes its connection in the middle of an upload, with a length or chunked: the
   * service sees the body break off (never a cut body as a whole one), and nothing stays in flight.
   */
  private void uploadsTheClientsAbandonBreakOffAtTheService(Backend backend) throws Exception {
    backend.drainRequests();
    for (boolean chunked : new boolean[] {false, true}) {
      String path = chunked ? "/abandoned/chunked" : "/abandoned/length";
      try (RawHttp leaving = RawHttp.connect(server.httpPort(), WAIT)) {
        backend.drainBegun();
        leaving.beginUpload("/drawbridge" + path, "127.0.0.1:" + server.httpPort(), chunked, ABANDONED_UPLOAD_BYTES,
            new byte[ABANDONED_AFTER_BYTES]);
        // Leaves only once the service is receiving the upload (see ClientAbortIT).
        assertEquals(path, backend.takeBegun(WAIT), "the abandoned upload reached the service");
      }
      assertEquals(path, backend.takeBrokenBody(WAIT), "the service saw the body break off");
      await("nothing in flight after the abandoned upload")
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> AdminStatus.read(proxyUrl), AdminStatus::idle);
    }
    assertEquals(List.of(), backend.drainRequests(), "the service got no whole request");
  }

  /**
   * With the proxy's default {@code maxRequestBodyBytes} (100 MiB) and the container's defaults, a
   * chunked client body over WildFly's {@code max-post-size} (10 MiB) reaches the service whole:
   * the proxy's limit is the one that applies. (WildFly refuses a declared Content-Length over
   * max-post-size before the proxy can lift it; docs/deploying.md says to raise it.)
   */
  private void aLargeChunkedUploadGoesThroughWithTheDefaults(Backend backend) throws Exception {
    backend.drainRequests();
    byte[] body = Bodies.pattern(LARGE_UPLOAD_BYTES).readAllBytes();
    HttpResponse<String> response = client.send(
        HttpRequest.newBuilder(URI.create(proxyUrl + "/large-upload")).timeout(WAIT)
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response::body);
    RecordedRequest upload = backend.takeRequest(WAIT);
    assertEquals("/large-upload", upload.target());
    assertEquals(LARGE_UPLOAD_BYTES, upload.bodyLength());
    assertEquals(Bodies.patternSha256(LARGE_UPLOAD_BYTES), upload.bodySha256());
  }

  /**
   * A service answers an upload before reading it: a client that goes on sending gets the answer
   * while it sends (it stops short of its declared length and waits, so an answer that waited for
   * the whole body would never come), and one that sends its whole body first gets it after that,
   * on a connection it can use again. The container's default body limits stay as they are.
   */
  private void anUploadAnsweredEarlyGetsItsAnswerWhileItIsSent(EarlyAnsweringService early) throws Exception {
    String host = "127.0.0.1:" + server.httpPort();
    try (RawHttp client = RawHttp.connect(server.httpPort(), WAIT)) {
      client.write("POST /drawbridge/early/upload HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: "
          + EARLY_ANSWERED_UPLOAD_BYTES + "\r\n\r\n");
      RawHttp.Response response =
          EarlyAnsweringService.uploadUntilAnswered(client, EARLY_ANSWERED_UPLOAD_BYTES / 2, false, WAIT).response();
      assertEquals(401, response.status(), response::bodyText);
      assertEquals(EarlyAnsweringService.ANSWER, response.bodyText());
    }
    early.readAfterAnswer(WAIT);
    int blindUpload = 4 * 1024 * 1024;
    try (RawHttp client = RawHttp.connect(server.httpPort(), WAIT)) {
      client.write("PUT /drawbridge/early/all HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: " + blindUpload
          + "\r\n\r\n");
      client.write(new byte[blindUpload]);
      RawHttp.Response response = client.readResponse("PUT");
      assertEquals(401, response.status(), response::bodyText);
      early.readAfterAnswer(WAIT);
      RawHttp.Response next = client.exchange("GET", "/drawbridge/early/again", host, List.of());
      assertEquals(401, next.status(), "the connection carries the next request after an early answer");
    }
    early.readAfterAnswer(WAIT);
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
    } catch (IOException e) {
      throw new AssertionError("GET " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
