package dev.drawbridge.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.drawbridge.it.support.HandPlayedAgent.frames;
import static dev.drawbridge.it.support.HandPlayedAgent.head;
import static dev.drawbridge.it.support.HandPlayedAgent.okHead;

import dev.drawbridge.it.support.HandPlayedAgent;
import dev.drawbridge.it.support.HandPlayedAgent.Delivered;
import dev.drawbridge.it.support.TunnelFixture;
import dev.drawbridge.protocol.Failure;
import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.Json;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.ResponseHead;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An agent that holds a valid token but misbehaves, played by this test with java.net.http
 * against a real delivered exchange: every crafted response gets a defined status, the client a
 * 502 with one sentence, and nothing the agent sent (or its token) leaks to the client or the log.
 */
@Timeout(300)
class HostileAgentIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static TunnelFixture tunnel;
  private static final List<String> proxyLog = java.util.Collections.synchronizedList(new ArrayList<>());
  private static final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          proxyLog.add(record.getLevel() + " " + record.getMessage() + " " + record.getThrown());
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(WAIT).build();
  private final HandPlayedAgent agent = new HandPlayedAgent(tunnel, http, WAIT);

  @BeforeAll
  static void start() {
    // The WAR runs in this JVM (embedded Jetty), so its java.util.logging output is ours to scan.
    Logger.getLogger("dev.drawbridge").addHandler(capture);
    tunnel = TunnelFixture.startWithoutAgent(config -> config.set("pollWaitSeconds", 1));
  }

  @AfterAll
  static void stop() {
    Logger.getLogger("dev.drawbridge").removeHandler(capture);
    if (tunnel != null) {
      tunnel.close();
    }
    assertTrue(proxyLog.stream().noneMatch(line -> line.contains(tunnel.token())), "the token never reaches the proxy's log");
  }

  private HttpRequest.Builder agentCall(String path, String agentId, String token) {
    return agent.agentCall(path, agentId, token);
  }

  private Delivered deliver() throws Exception {
    return agent.deliver("/hostile", "agent-a");
  }

  private int answer(String id, String agentId, byte[] body) throws Exception {
    return agent.answer(id, agentId, body);
  }

  private static void assertClientGot502(Delivered delivered, String secret) throws Exception {
    HttpResponse<String> response = delivered.client().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(502, response.statusCode(), response::body);
    assertEquals(1, response.body().strip().lines().count(), "one sentence");
    assertFalse(response.body().contains(secret), "nothing the agent sent reaches the client");
    assertEquals("nosniff", response.headers().firstValue("X-Content-Type-Options").orElse(null));
    assertTrue(response.headers().map().keySet().stream().noneMatch(name -> name.equalsIgnoreCase("Set-Cookie")));
  }

  /**
   * Not hostile, but only a hand-made agent can send each failure report on demand: each reaches
   * the client as its documented status with the proxy's own sentence for it, naming the exchange;
   * only a draining agent's, which means the request was never started, says when to retry. The
   * agent's account goes to the proxy's log.
   */
  @ParameterizedTest
  @CsvSource({"BACKEND_UNREACHABLE, 502, false", "BACKEND_TIMEOUT, 504, false", "BAD_BACKEND_RESPONSE, 502, false",
      "AGENT_DRAINING, 503, true"})
  void anAgentsFailureReportReachesTheClientAsItsDocumentedStatus(Failure failure, int status, boolean retryAfter)
      throws Exception {
    Delivered delivered = deliver();
    String report = "The backend at http://10.0.0.5:8080 failed with " + failure + ".";
    assertEquals(204, answer(delivered.id(), "agent-a", head(Json.toJson(ResponseHead.failed(failure, report)))));
    HttpResponse<String> response = delivered.client().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(status, response.statusCode(), response::body);
    assertEquals(1, response.body().strip().lines().count(), "one sentence");
    assertTrue(response.body().contains(delivered.id()), () -> "names the exchange: " + response.body());
    assertFalse(response.body().contains("10.0.0.5"), () -> "the agent's report stays with the operator: " + response.body());
    assertEquals("nosniff", response.headers().firstValue("X-Content-Type-Options").orElse(null));
    assertEquals(retryAfter, response.headers().firstValue("Retry-After").isPresent(), "Retry-After");
    await().atMost(WAIT).until(() -> logged(delivered.id(), report));
  }

  /** An agent's failure message made to look like a page is never shown to the client at all. */
  @Test
  void anAgentsFailureMessageNeverReachesTheClient() throws Exception {
    Delivered delivered = deliver();
    String message = "<script>alert(document.cookie)</script> http://10.0.0.5:8080 internal secret";
    answer(delivered.id(), "agent-a", head(Json.toJson(ResponseHead.failed(Failure.BACKEND_UNREACHABLE, message))));
    HttpResponse<String> response = delivered.client().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(502, response.statusCode(), response::body);
    for (String secret : List.of("<script", "10.0.0.5", "secret")) {
      assertFalse(response.body().contains(secret), () -> secret + " reached the client: " + response.body());
    }
    assertEquals("text/plain;charset=utf-8", response.headers().firstValue("Content-Type").orElse("").replace(" ", "").toLowerCase());
    assertEquals("nosniff", response.headers().firstValue("X-Content-Type-Options").orElse(null));
    await().atMost(WAIT).until(() -> logged(delivered.id(), "internal secret"));
  }

  /** True once the proxy's log has a line naming exchange {@code id} that holds {@code text}. */
  private static boolean logged(String id, String text) {
    synchronized (proxyLog) {
      return proxyLog.stream().anyMatch(line -> line.contains(id) && line.contains(text));
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"status\":200,\"headers\":[{\"name\":\"X-Evil\",\"value\":\"a\\r\\nSet-Cookie: evil=1\"}]}",
        "{\"status\":200,\"headers\":[{\"name\":\"X-Evil\\r\\nSet-Cookie\",\"value\":\"evil\"}]}",
        "{\"status\":200,\"headers\":[{\"name\":\"X-Evil\",\"value\":\"a\\u0000evil\"}]}",
        "{\"status\":99,\"headers\":[]}",
        "{\"status\":1000,\"headers\":[]}",
        "{\"status\":200,\"headers\":[{\"name\":\"Content-Length\",\"value\":\"1\"},{\"name\":\"Content-Length\",\"value\":\"5\"}]}",
        "{\"status\":200,\"headers\":[{\"name\":\"Content-Length\",\"value\":\"5\"},{\"name\":\"Transfer-Encoding\",\"value\":\"chunked\"}]}",
        "{\"status\":200,\"headers\":[{\"name\":\"Content-Length\",\"value\":\"-1\"}]}",
        "{\"status\":200,\"headers\":[{\"name\":\"evil\",\"value\":\"x\"}",
        "not json evil",
      })
  void anUnsafeOrMalformedHeadIsRefusedAndTheClientGets502(String json) throws Exception {
    Delivered delivered = deliver();
    int status = answer(delivered.id(), "agent-a", frames(head(json), Frames.end()));
    assertRefused(status);
    assertClientGot502(delivered, "evil");
  }

  @Test
  void absurdHeaderCountsAreRefused() throws Exception {
    StringBuilder json = new StringBuilder("{\"status\":200,\"headers\":[");
    for (int i = 0; i < 300; i++) {
      json.append(i == 0 ? "" : ",").append("{\"name\":\"X-").append(i).append("\",\"value\":\"evil\"}");
    }
    Delivered delivered = deliver();
    answer(delivered.id(), "agent-a", frames(head(json.append("]}").toString()), Frames.end()));
    assertClientGot502(delivered, "evil");
  }

  @Test
  void anOversizedHeadIsRefused() throws Exception {
    Delivered delivered = deliver();
    byte[] huge = new byte[Frames.HEADER_LENGTH + Frames.MAX_HEAD + 1];
    Frames.putHeader(huge, 0, Frames.HEAD, Frames.MAX_HEAD + 1);
    assertRefused(answer(delivered.id(), "agent-a", huge));
    assertClientGot502(delivered, "evil");
  }

  @Test
  void truncatedAndGarbageFramesAreRefused() throws Exception {
    Delivered truncated = deliver();
    byte[] whole = frames(okHead(), Frames.end());
    assertRefused(answer(truncated.id(), "agent-a", java.util.Arrays.copyOf(whole, 7)));
    assertClientGot502(truncated, "evil");
    Delivered garbage = deliver();
    assertRefused(answer(garbage.id(), "agent-a", "Xevil garbage".getBytes(StandardCharsets.UTF_8)));
    assertClientGot502(garbage, "evil");
  }

  @Test
  void aForeignAgentIsRefused403AndChangesNothingThenAReplayIs409AndUnknownIs404() throws Exception {
    Delivered delivered = deliver();
    assertEquals(403, answer(delivered.id(), "agent-b", frames(okHead(), Frames.end())));
    assertFalse(delivered.client().isDone(), "the client still waits for its own agent");
    assertEquals(204, answer(delivered.id(), "agent-a", frames(okHead(), Frames.frame(Frames.DATA, "hi".getBytes()), Frames.end())));
    HttpResponse<String> response = delivered.client().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(200, response.statusCode());
    assertEquals("hi", response.body());
    // A completed exchange is forgotten at once: a replay finds no exchange of that id.
    assertEquals(404, answer(delivered.id(), "agent-a", frames(okHead(), Frames.end())), "a replayed answer");
    assertEquals(404, answer("AAAAAAAAAAAAAAAAAAAAAA", "agent-a", frames(okHead(), Frames.end())));
  }

  /**
   * The token is checked before the exchange id, so a caller without a valid token learns nothing
   * of which ids exist: a live one, an ended one and an unknown one all answer 401.
   */
  @Test
  void withoutAValidTokenEveryExchangeIdAnswers401() throws Exception {
    Delivered ended = deliver();
    answer(ended.id(), "agent-a", "garbage".getBytes(StandardCharsets.UTF_8));
    assertClientGot502(ended, "garbage");
    Delivered live = deliver();
    for (String id : List.of(live.id(), ended.id(), "AAAAAAAAAAAAAAAAAAAAAA")) {
      for (String suffix : List.of(Protocol.RESPONSE_SUFFIX, Protocol.REQUEST_BODY_SUFFIX)) {
        HttpRequest.Builder call = agentCall(Protocol.exchangePath(id, suffix), "agent-a", "wrong-" + tunnel.token());
        HttpResponse<String> answer =
            http.send(
                suffix.equals(Protocol.RESPONSE_SUFFIX)
                    ? call.POST(HttpRequest.BodyPublishers.ofByteArray(frames(okHead(), Frames.end()))).build()
                    : call.GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, answer.statusCode(), () -> id + suffix + ": " + answer.body());
      }
    }
    assertFalse(live.client().isDone(), "a refused caller changes nothing");
    assertEquals(204, answer(live.id(), "agent-a", frames(okHead(), Frames.end())));
    assertEquals(200, live.client().get(WAIT.toSeconds(), TimeUnit.SECONDS).statusCode());
  }

  @Test
  void aSecondAnswerWhileTheFirstStreamsIs409() throws Exception {
    Delivered delivered = deliver();
    // The first answer's body stays open: a head and no end frame yet.
    CompletableFuture<HttpResponse<Void>> first =
        http.sendAsync(
            agentCall(Protocol.exchangePath(delivered.id(), Protocol.RESPONSE_SUFFIX), "agent-a", tunnel.token())
                .header("Content-Type", Protocol.FRAMES_TYPE)
                .POST(HttpRequest.BodyPublishers.fromPublisher(new SlowBody(okHead())))
                .build(),
            HttpResponse.BodyHandlers.discarding());
    await().atMost(WAIT).until(() -> delivered.client().isDone() || headSeen(delivered));
    assertEquals(409, answer(delivered.id(), "agent-a", frames(okHead(), Frames.end())));
    first.cancel(true);
  }

  private boolean headSeen(Delivered delivered) {
    return tunnel.status().backend("default").inFlight() == 1 && tunnel.status().totalQueued() == 0;
  }

  @Test
  void anAnswerToAnEndedExchangeIs410() throws Exception {
    Delivered delivered = deliver();
    answer(delivered.id(), "agent-a", "garbage".getBytes(StandardCharsets.UTF_8));
    assertClientGot502(delivered, "garbage");
    assertEquals(410, answer(delivered.id(), "agent-a", frames(okHead(), Frames.end())));
  }

  /**
   * A refused answer gets 400, so the agent can tell "your response was bad" from "the client left"
   * (410), though the proxy ended the exchange (the client has its 502) before it answered.
   */
  private static void assertRefused(int status) {
    assertEquals(400, status, "a refused answer");
  }

  @Test
  void aWrongTokenIs401AndItsValueIsNeverEchoedOrLogged() throws Exception {
    String stolen = "stolen-" + tunnel.token();
    HttpResponse<String> response =
        http.send(
            agentCall(Protocol.POLL_PATH + "?backend=default&max=1", "agent-x", stolen).POST(HttpRequest.BodyPublishers.noBody()).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(401, response.statusCode());
    assertFalse(response.body().contains(stolen));
    assertTrue(proxyLog.stream().noneMatch(line -> line.contains(stolen)));
  }

  /** A request body that sends {@code first} and then never ends until cancelled. */
  private static final class SlowBody implements java.util.concurrent.Flow.Publisher<java.nio.ByteBuffer> {
    private final byte[] first;

    SlowBody(byte[] first) {
      this.first = first;
    }

    @Override
    public void subscribe(java.util.concurrent.Flow.Subscriber<? super java.nio.ByteBuffer> subscriber) {
      subscriber.onSubscribe(
          new java.util.concurrent.Flow.Subscription() {
            private boolean sent;

            @Override
            public synchronized void request(long n) {
              if (!sent) {
                sent = true;
                subscriber.onNext(java.nio.ByteBuffer.wrap(first));
              }
            }

            @Override
            public void cancel() {}
          });
    }
  }
}
