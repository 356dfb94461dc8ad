package dev.drawbridge.agent;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.BodyMode;
import dev.drawbridge.protocol.Failure;
import dev.drawbridge.protocol.FramedOutputStream;
import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.protocol.ResponseHead;
import java.io.ByteArrayOutputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The real agent between a scripted proxy and a real backend, both embedded Jetty. */
@Timeout(60)
class AgentEndToEndTest {

  private static final String TOKEN = "s3cret-agent-token";

  private final List<Server> servers = new ArrayList<>();
  private FakeProxy proxy;
  private TestBackend backend;
  private int proxyPort;
  private int backendPort;
  private Agent agent;

  @BeforeEach
  void start() throws Exception {
    proxy = new FakeProxy();
    backend = new TestBackend();
    proxyPort = serve(proxy);
    backendPort = serve(backend);
  }

  @AfterEach
  void stop() throws Exception {
    backend.sseRelease.countDown();
    if (agent != null) {
      agent.close();
    }
    for (Server server : servers) {
      server.stop();
    }
  }

  private int serve(org.eclipse.jetty.server.Handler handler) throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    server.addConnector(connector);
    server.setHandler(handler);
    server.start();
    servers.add(server);
    return connector.getLocalPort();
  }

  private Agent startAgent(String target, boolean preserveHost) {
    return startAgent(target, preserveHost, 2);
  }

  private Agent startAgent(String target, boolean preserveHost, int polls) {
    AgentConfig config = new AgentConfig(
        URI.create("http://127.0.0.1:" + proxyPort + FakeProxy.CONTEXT), URI.create(target), "default", TOKEN,
        "test-agent", 4, polls, Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(10), preserveHost,
        Duration.ofSeconds(10), Duration.ofSeconds(1), null, Duration.ofSeconds(5), ProxyTransport.DEFAULT);
    agent = new Agent(config);
    agent.start();
    return agent;
  }

  private String backendUrl() {
    return "http://127.0.0.1:" + backendPort;
  }

  private static RequestHead get(String id, String target, HeaderField... headers) {
    return new RequestHead(id, "default", "GET", target, List.of(headers), BodyMode.NONE, -1, null);
  }

  private static String header(ResponseHead head, String name) {
    return head.headers().stream().filter(field -> field.name().equalsIgnoreCase(name))
        .map(HeaderField::value).findFirst().orElse(null);
  }

  @Test
  void getIsForwardedAndTheResponseComesBackFramed() throws Exception {
    startAgent(backendUrl() + "/base", false);
    proxy.deliver(get("ex-get", "/echo/a%20b?x=%2F&y",
        new HeaderField("Host", "public.example.com"),
        new HeaderField("User-Agent", "curl/8"),
        new HeaderField("X-Forwarded-Host", "public.example.com"),
        new HeaderField("Connection", "X-Hop"),
        new HeaderField("X-Hop", "must not pass")));

    FakeProxy.Upload upload = proxy.upload("ex-get");
    ResponseHead head = upload.head();
    assertEquals("END", upload.end());
    assertEquals(200, head.status());
    assertNull(head.failure());
    assertEquals("GET", header(head, "X-Echo-Method"));
    assertEquals("/base/echo/a%20b?x=%2F&y", header(head, "X-Echo-Target"));
    assertEquals("127.0.0.1:" + backendPort, header(head, "X-Echo-Host"));
    assertEquals("public.example.com", header(head, "X-Echo-Forwarded-Host"));
    assertEquals("curl/8", header(head, "X-Echo-User-Agent"));
    assertEquals("null", header(head, "X-Echo-Hop"));
    assertEquals("0", header(head, "Content-Length"), "the backend's Content-Length is kept");
    assertEquals(2, head.headers().stream().filter(field -> field.name().equals("Set-Cookie")).count());
    assertEquals(Protocol.FRAMES_TYPE, upload.headers.get("Content-Type"));
    assertTrue(upload.batched, "a small response of declared length travels whole in a batch");

    FakeProxy.Poll poll = proxy.polls.poll(10, TimeUnit.SECONDS);
    assertNotNull(poll);
    assertEquals("Bearer " + TOKEN, poll.headers().get("Authorization"));
    assertEquals("test-agent", poll.headers().get(Protocol.AGENT_ID_HEADER));
    assertEquals("1", poll.headers().get(Protocol.PROTOCOL_HEADER));
    assertEquals(Protocol.SOFTWARE_VERSION, poll.headers().get(Protocol.AGENT_VERSION_HEADER));
    assertTrue(poll.query().matches("backend=default&max=[1-4]"), poll.query());
  }

  @Test
  void preserveHostSendsTheClientsHost() throws Exception {
    startAgent(backendUrl(), true);
    proxy.deliver(get("ex-host", "/echo", new HeaderField("Host", "public.example.com")));
    assertEquals("public.example.com", header(proxy.upload("ex-host").head(), "X-Echo-Host"));
  }

  @Test
  void inlineBodyReachesTheBackend() throws Exception {
    startAgent(backendUrl(), false);
    byte[] body = "name=drawbridge&x=%2F".getBytes(StandardCharsets.UTF_8);
    proxy.deliver(new RequestHead("ex-inline", "default", "POST", "/created", List.of(
        new HeaderField("Content-Type", "application/x-www-form-urlencoded"),
        new HeaderField("Content-Length", String.valueOf(body.length))),
        BodyMode.INLINE, body.length, Base64.getEncoder().encodeToString(body)));
    FakeProxy.Upload upload = proxy.upload("ex-inline");
    ResponseHead head = upload.head();
    assertEquals("END", upload.end());
    assertEquals(201, head.status());
    assertEquals("POST", header(head, "X-Echo-Method"));
    assertEquals(String.valueOf(body.length), header(head, "X-Echo-Content-Length"));
    assertEquals("name=drawbridge&x=%2F", upload.bodyText());
  }

  @Test
  void streamedBodyIsFetchedFromTheProxyAndStreamedToTheBackend() throws Exception {
    startAgent(backendUrl(), false);
    byte[] body = new byte[300_000];
    new Random(7).nextBytes(body);
    ByteArrayOutputStream frames = new ByteArrayOutputStream();
    FramedOutputStream framed = new FramedOutputStream(frames);
    framed.write(body, 0, 100_000);
    framed.write(body, 100_000, 200_000);
    framed.finish();
    proxy.requestBodies.put("ex-stream", frames.toByteArray());
    proxy.deliver(new RequestHead("ex-stream", "default", "PUT", "/echo", List.of(), BodyMode.STREAM, -1, null));

    FakeProxy.Upload upload = proxy.upload("ex-stream");
    assertEquals(200, upload.head().status());
    assertEquals("END", upload.end());
    assertEquals("null", header(upload.head(), "X-Echo-Content-Length"), "unknown length travels chunked");
    assertFalse(upload.batched, "a body over 64 KiB streams in its own call");
    synchronized (upload) {
      assertArrayEquals(body, upload.body.toByteArray());
    }
  }

  @Test
  void aStreamedBodyThatBreaksOffReachesTheBackendCutNeverWhole() throws Exception {
    startAgent(backendUrl(), false);
    ByteArrayOutputStream frames = new ByteArrayOutputStream();
    FramedOutputStream framed = new FramedOutputStream(frames);
    framed.write(new byte[100_000]);
    framed.flush(); // and no end frame: the client's upload broke off
    proxy.requestBodies.put("ex-cut", frames.toByteArray());
    proxy.deliver(new RequestHead("ex-cut", "default", "PUT", "/echo/cut", List.of(), BodyMode.STREAM, -1, null));

    assertEquals("/echo/cut", backend.brokenBodies.poll(10, TimeUnit.SECONDS), "the backend saw the body break off");
    assertEquals(Failure.BACKEND_UNREACHABLE, proxy.upload("ex-cut").head().failure(), "reported as a failure");
    assertEquals(List.of(), List.copyOf(backend.wholeBodies), "chunked, it never got the last chunk");
  }

  @Test
  void serverSentEventsReachTheProxyBeforeTheBackendFinishes() throws Exception {
    startAgent(backendUrl(), false);
    proxy.deliver(get("ex-sse", "/sse"));
    FakeProxy.Upload upload = proxy.upload("ex-sse");
    assertEquals("text/event-stream", header(upload.head(), "Content-Type"));
    assertFalse(upload.batched, "a body of unknown length streams in its own call");
    assertEquals("data: one\n\n", upload.chunk(), "the first event arrives while the backend still holds the stream");
    assertFalse(upload.end.isDone());
    backend.sseRelease.countDown();
    StringBuilder rest = new StringBuilder();
    while (!upload.end.isDone() || !upload.chunks.isEmpty()) {
      String chunk = upload.chunks.poll(100, TimeUnit.MILLISECONDS);
      if (chunk != null) {
        rest.append(chunk);
      }
    }
    assertEquals("data: two\n\n", rest.toString());
    assertEquals("END", upload.end());
  }

  @Test
  void aPollThatBroughtWorkIsFollowedAtOnceByTheNextWhileThatWorkRuns() throws Exception {
    // One poll asking for work: the thread that read the answer runs the exchange, so the loop
    // must go on elsewhere, or the proxy would miss the call it expects and count the agent lost.
    FakeProxy.Upload upload = heldBySinglePollAgent("ex-held");
    proxy.polls.clear();
    assertNotNull(proxy.polls.poll(10, TimeUnit.SECONDS), "the agent polls again while its exchange is held");
    assertNotNull(proxy.polls.poll(10, TimeUnit.SECONDS), "and keeps polling");
    assertFalse(upload.end.isDone());
    backend.sseRelease.countDown();
    assertEquals("END", upload.end());
  }

  @Test
  void aDrainWaitsForTheExchangeAPollThreadRuns() throws Exception {
    FakeProxy.Upload upload = heldBySinglePollAgent("ex-drained");
    CompletableFuture<Integer> finished = CompletableFuture.supplyAsync(agent::drain);
    assertNotNull(proxy.goodbyes.poll(10, TimeUnit.SECONDS), "the proxy is told first");
    assertThrows(TimeoutException.class, () -> finished.get(500, TimeUnit.MILLISECONDS),
        "the drain waits for the exchange in flight");
    backend.sseRelease.countDown();
    assertEquals(1, finished.get(10, TimeUnit.SECONDS), "it finished within the drain timeout");
    assertEquals("END", upload.end());
  }

  /** Starts an agent with one poll and hands it an exchange that the backend holds open. */
  private FakeProxy.Upload heldBySinglePollAgent(String id) throws Exception {
    startAgent(backendUrl(), false, 1);
    proxy.deliver(get(id, "/sse"));
    FakeProxy.Upload upload = proxy.upload(id);
    assertEquals("data: one\n\n", upload.chunk(), "the backend now holds the exchange");
    return upload;
  }

  @Test
  void cancelledExchangeStopsStreaming() throws Exception {
    startAgent(backendUrl(), false);
    proxy.deliver(get("ex-cancel", "/sse"));
    FakeProxy.Upload upload = proxy.upload("ex-cancel");
    assertEquals("data: one\n\n", upload.chunk());
    proxy.cancel("ex-cancel");
    String end = upload.end();
    assertTrue(end.startsWith("CUT") || end.startsWith("ABORT"), end);
  }

  @Test
  void backendThatBreaksMidBodyBecomesAnAbortFrame() throws Exception {
    startAgent(backendUrl(), false);
    proxy.deliver(get("ex-broken", "/broken"));
    FakeProxy.Upload upload = proxy.upload("ex-broken");
    assertEquals(200, upload.head().status());
    assertEquals("100", header(upload.head(), "Content-Length"));
    String end = upload.end();
    assertTrue(end.startsWith("ABORT: backend connection broke: "), end);
    assertEquals("0123456789", upload.bodyText());
  }

  @Test
  void unreachableBackendBecomesAFailureHead() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    startAgent("http://127.0.0.1:" + closedPort, false);
    proxy.deliver(get("ex-down", "/anything"));
    FakeProxy.Upload upload = proxy.upload("ex-down");
    ResponseHead head = upload.head();
    assertEquals("END", upload.end());
    assertEquals(Failure.BACKEND_UNREACHABLE, head.failure());
    assertEquals(0, head.status());
    assertEquals("The backend at http://127.0.0.1:" + closedPort + " refused the connection.", head.message());
  }

  @Test
  void rejectedTokenIsLoggedOnceAsAnAuthProblemWithoutTheToken() throws Exception {
    BlockingQueue<LogRecord> records = new LinkedBlockingQueue<>();
    Logger linkLog = Logger.getLogger(ProxyLink.class.getName());
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord record) {
        records.add(record);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    linkLog.addHandler(capture);
    try {
      proxy.pollStatus = 401;
      startAgent(backendUrl(), false);
      LogRecord record = records.poll(10, TimeUnit.SECONDS);
      assertNotNull(record);
      assertEquals("The proxy rejected the agent token for backend default (401); check --token or --token-file;"
          + " retrying every 1s", record.getMessage());
      // Both pollers keep retrying; wait for several more polls, then check nothing more was logged.
      for (int i = 0; i < 4; i++) {
        assertNotNull(proxy.polls.poll(10, TimeUnit.SECONDS));
      }
      assertTrue(records.isEmpty(), "one line per state change, not per retry: " + records);
      assertFalse(agent.isConnected());

      proxy.pollStatus = 200;
      LogRecord connected = records.poll(10, TimeUnit.SECONDS);
      assertNotNull(connected);
      assertTrue(connected.getMessage().startsWith("Connected to proxy http://127.0.0.1:" + proxyPort
          + "/drawbridge (Drawbridge test) as agent test-agent for backend default"), connected.getMessage());
      assertTrue(agent.isConnected());
    } finally {
      linkLog.removeHandler(capture);
    }
  }

  @Test
  void proxySpeakingAnotherProtocolIsLoggedOnceNamingBothVersions() throws Exception {
    BlockingQueue<LogRecord> records = new LinkedBlockingQueue<>();
    Logger linkLog = Logger.getLogger(ProxyLink.class.getName());
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord record) {
        records.add(record);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    linkLog.addHandler(capture);
    try {
      proxy.protocolVersion = "2";
      proxy.pollStatus = 400;
      startAgent(backendUrl(), false);
      LogRecord record = records.poll(10, TimeUnit.SECONDS);
      assertNotNull(record);
      assertEquals("The proxy speaks agent protocol 2; this agent speaks " + Protocol.VERSION
          + "; upgrade the agent or the proxy so both speak the same version; retrying every 1s",
          record.getMessage());
      for (int i = 0; i < 4; i++) {
        assertNotNull(proxy.polls.poll(10, TimeUnit.SECONDS));
      }
      assertTrue(records.isEmpty(), "one line, not one per retry: " + records);
      assertFalse(agent.isConnected());
    } finally {
      linkLog.removeHandler(capture);
    }
  }

  @Test
  void neverAsksForMoreThanItsFreeCapacity() throws Exception {
    startAgent(backendUrl(), false);
    // Three long-running exchanges take three of the four slots; each of the two polls may ask for
    // half of them.
    proxy.deliver(get("ex-a", "/sse"), get("ex-b", "/sse"));
    proxy.deliver(get("ex-c", "/sse"));
    for (String id : List.of("ex-a", "ex-b", "ex-c")) {
      assertEquals("data: one\n\n", proxy.upload(id).chunk());
    }
    proxy.polls.clear();
    for (int i = 0; i < 3; i++) {
      FakeProxy.Poll poll = proxy.polls.poll(10, TimeUnit.SECONDS);
      assertNotNull(poll);
      assertEquals("backend=default&max=1", poll.query());
    }
  }

  @Test
  void drainWaitsForExchangesInFlight() throws Exception {
    startAgent(backendUrl(), false);
    proxy.deliver(get("ex-drain", "/sse"));
    FakeProxy.Upload upload = proxy.upload("ex-drain");
    assertEquals("data: one\n\n", upload.chunk());
    CompletableFuture<Integer> drained = CompletableFuture.supplyAsync(agent::drain);
    // Release the backend only once the drain has counted the exchange in flight.
    await().atMost(Duration.ofSeconds(30)).until(agent::isDraining);
    assertFalse(upload.end.isDone());
    backend.sseRelease.countDown();
    assertEquals(1, drained.get(10, TimeUnit.SECONDS));
    assertEquals("END", upload.end());
    assertEquals(0, agent.inFlight());
  }
}
