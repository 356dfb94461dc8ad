package dev.drawbridge.it;

import static dev.drawbridge.it.support.HandPlayedAgent.frames;
import static dev.drawbridge.it.support.HandPlayedAgent.head;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.Bodies;
import dev.drawbridge.it.support.HandPlayedAgent;
import dev.drawbridge.it.support.ProxyServer;
import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.TunnelFixture;
import dev.drawbridge.protocol.BatchAnswer;
import dev.drawbridge.protocol.BatchedResponse;
import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.Json;
import dev.drawbridge.protocol.RequestHead;
import dev.drawbridge.protocol.ResponseHead;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Property: whatever body length an agent declares and whatever it then sends, a client on a
 * kept-alive or pipelined connection never reads one response into another. For every response
 * either the client gets exactly the declared body and the connection goes on serving, or it gets
 * a 502 (nothing was sent yet), or its connection is closed mid-body and never reused. Bodies that
 * must be empty (HEAD, 204, 304) count with a length of zero.
 *
 * <p>An agent played by hand answers cases drawn at random from a seed (printed in every failure;
 * {@code -Dresponse-length.seed=N} replays one, {@code -Dresponse-length.cases=N} runs more), plus
 * the case that once let a client read the next response as the rest of a short one.
 */
@Timeout(300)
class ResponseLengthIT {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final long SEED = Long.getLong("response-length.seed", System.nanoTime());
  private static final int CASES = Integer.getInteger("response-length.cases", 60);
  private static final byte[] SECOND_BODY = "second".getBytes(StandardCharsets.US_ASCII);

  private static TunnelFixture tunnel;
  private static HandPlayedAgent agent;

  /** How the agent answers: one call with everything, one call sent in two parts, or in a batch. */
  enum Answer {
    STREAMED,
    /** Head and data first; the end frame only once the client saw the head, so it is committed. */
    STREAMED_IN_PARTS,
    BATCHED
  }

  /** Whether the client sends its second request after the first answer or right behind it. */
  enum Client {
    KEPT_ALIVE,
    PIPELINED
  }

  /**
   * One drawn case.
   *
   * @param declared the Content-Length the agent's head declares, or -1 for none
   * @param sent the body bytes the agent then sends
   */
  record Case(int number, String method, int status, long declared, int sent, Answer answer, Client client) {

    boolean mustBeEmpty() {
      return method.equals("HEAD") || status == 204 || status == 304;
    }

    /** True when the agent sends exactly the body the client was promised. */
    boolean exact() {
      return mustBeEmpty() ? sent == 0 : declared < 0 || sent == declared;
    }

    /** True when the proxy writes and flushes the data before the end frame comes. */
    boolean headGoesOutBeforeTheEnd() {
      return answer == Answer.STREAMED_IN_PARTS && sent > 0 && !mustBeEmpty() && (declared < 0 || sent <= declared);
    }

    String path(String which) {
      return "/length/" + number + "/" + which;
    }

    @Override
    public String toString() {
      return "case " + number + " (seed " + SEED + "): " + method + " answered " + status + " declaring "
          + (declared < 0 ? "no length" : declared + " bytes") + ", sending " + sent + ", " + answer + ", " + client;
    }
  }

  @BeforeAll
  static void start() {
    // A request pipelined behind a response the proxy cut may still be read by the container and
    // queued, though its client is gone; short deadlines let such leftovers end within the test.
    tunnel =
        TunnelFixture.startWithoutAgent(
            config -> config.set("pollWaitSeconds", 1)
                .backendSetting("queueTimeoutSeconds", 5)
                .backendSetting("responseTimeoutSeconds", 8));
    agent = new HandPlayedAgent(tunnel, HttpClient.newBuilder().connectTimeout(WAIT).build(), WAIT);
  }

  @AfterAll
  static void stop() {
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @Test
  void noClientEverReadsOneResponseIntoAnother() throws Exception {
    List<Case> cases = new ArrayList<>();
    // The exploit as first reported: 20 bytes declared, 5 sent, then the end frame.
    cases.add(new Case(0, "GET", 200, 20, 5, Answer.STREAMED, Client.PIPELINED));
    cases.add(new Case(1, "GET", 200, 20, 5, Answer.STREAMED_IN_PARTS, Client.PIPELINED));
    cases.add(new Case(2, "GET", 200, 20, 5, Answer.STREAMED_IN_PARTS, Client.KEPT_ALIVE));
    Random random = new Random(SEED);
    for (int i = cases.size(); i < CASES; i++) {
      cases.add(draw(i, random));
    }
    for (Case drawn : cases) {
      play(drawn);
    }
    tunnel.awaitIdle(WAIT);
  }

  private static Case draw(int number, Random random) {
    String method = random.nextInt(6) == 0 ? "HEAD" : "GET";
    int roll = random.nextInt(8);
    int status = roll == 0 ? 204 : roll == 1 ? 304 : 200;
    long declared = random.nextInt(8) == 0 ? -1 : random.nextInt(65);
    boolean exactBody = random.nextBoolean();
    int sent;
    if (exactBody && declared >= 0 && !(method.equals("HEAD") || status != 200)) {
      sent = (int) declared;
    } else if (exactBody && (method.equals("HEAD") || status != 200)) {
      sent = 0;
    } else {
      sent = random.nextInt((int) Math.max(declared, 16) + 9);
    }
    Answer answer = Answer.values()[random.nextInt(Answer.values().length)];
    Client client = Client.values()[random.nextInt(Client.values().length)];
    return new Case(number, method, status, declared, sent, answer, client);
  }

  private void play(Case drawn) throws Exception {
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      String first = request(drawn.method(), drawn.path("first"));
      String second = request("GET", drawn.path("second"));
      client.write(drawn.client() == Client.PIPELINED ? first + second : first);
      RequestHead exchange = exchangeFor(drawn.path("first"));

      Received received = answerFirst(drawn, exchange, client);

      if (drawn.exact()) {
        assertFalse(received.cut(), () -> drawn + ": a body of the promised length must not be cut");
        assertEquals(drawn.status(), received.head().status(), drawn::toString);
        assertArrayEquals(drawn.mustBeEmpty() ? new byte[0] : pattern(drawn.sent()), received.body(), drawn::toString);
        String agentAnswer = received.agentAnswer().get();
        assertTrue(agentAnswer.startsWith("204"), () -> drawn + ": the agent hears its response was delivered, got " + agentAnswer);
      } else {
        if (received.cut()) {
          assertEquals(drawn.status(), received.head().status(), drawn::toString);
          assertTrue(client.peerClosed(), () -> drawn + ": a cut response closes the connection");
        } else {
          assertEquals(502, received.head().status(), () -> drawn + ": " + new String(received.body(), StandardCharsets.UTF_8));
          if (!drawn.method().equals("HEAD")) {
            String text = new String(received.body(), StandardCharsets.UTF_8);
            assertEquals(1, text.strip().lines().count(), () -> drawn + ": one sentence, got " + text);
            assertFalse(text.contains("HTTP/"), () -> drawn + ": nothing of the next response, got " + text);
          }
        }
        String agentAnswer = received.agentAnswer().get();
        assertTrue(agentAnswer.startsWith("400"), () -> drawn + ": the agent hears its response was refused, got " + agentAnswer);
        if (received.cut()) {
          return;
        }
      }

      // The connection goes on, and the next response is whole and its own.
      if (received.head().header("Connection").filter(v -> v.equalsIgnoreCase("close")).isPresent()) {
        assertTrue(client.peerClosed(), () -> drawn + ": Connection: close is kept");
        return;
      }
      if (drawn.client() == Client.KEPT_ALIVE) {
        client.write(second);
      }
      RequestHead next = exchangeFor(drawn.path("second"));
      HttpResponse<String> batch =
          agent.answerBatch("agent-a", frames(entry(next.id(), headJson(200, SECOND_BODY.length), SECOND_BODY), Frames.end()));
      assertEquals(204, batch.statusCode(), batch::body);
      RawHttp.Response nextResponse = client.readResponse("GET");
      assertEquals(200, nextResponse.status(), () -> drawn + ": " + nextResponse.bodyText());
      assertArrayEquals(SECOND_BODY, nextResponse.body(), drawn::toString);
      assertEquals(next.id(), nextResponse.head().header("Drawbridge-Exchange-Id").orElse(null), drawn::toString);
    }
  }

  /** What the client read of the first response, and what the agent was told. */
  private record Received(RawHttp.Head head, byte[] body, boolean cut, Supplier<String> agentAnswer) {}

  private Received answerFirst(Case drawn, RequestHead exchange, RawHttp client) throws Exception {
    String headJson = headJson(drawn.status(), drawn.declared());
    byte[] data = pattern(drawn.sent());
    if (drawn.answer() == Answer.BATCHED) {
      HttpResponse<String> batch =
          agent.answerBatch("agent-a", frames(entry(exchange.id(), headJson, data), Frames.end()));
      RawHttp.Head head = client.readFinalHead();
      return read(drawn, client, head, () -> batchStatus(batch, exchange.id()));
    }
    RawHttp call = agent.openResponseCall(exchange.id(), "agent-a");
    call.writeChunk(data.length == 0 ? head(headJson) : frames(head(headJson), Frames.frame(Frames.DATA, data)));
    Supplier<String> agentStatus = () -> agentAnswer(call);
    RawHttp.Head head;
    if (drawn.headGoesOutBeforeTheEnd()) {
      head = client.readFinalHead();
      endCall(call);
    } else {
      endCall(call);
      head = client.readFinalHead();
    }
    return read(drawn, client, head, agentStatus);
  }

  private static Received read(Case drawn, RawHttp client, RawHttp.Head head, Supplier<String> agentStatus) {
    try (InputStream in = client.body(head, drawn.method())) {
      return new Received(head, readUpTo(in, 1024), false, agentStatus);
    } catch (java.net.SocketTimeoutException e) {
      throw new AssertionError(drawn + ": the client waits for body bytes that never come on a connection that"
          + " stays open, so the next response on it would be read as the rest of this one", e);
    } catch (IOException e) {
      // Closed before the body was whole (EOF, or a reset): the connection is cut.
      return new Received(head, new byte[0], true, agentStatus);
    }
  }

  /** The body, bounded: a body that would run into the next response must not hang the test. */
  private static byte[] readUpTo(InputStream in, int max) throws IOException {
    byte[] body = in.readNBytes(max);
    assertEquals(-1, in.read(), "the body is not longer than " + max + " bytes");
    return body;
  }

  /** The exchange of {@code path}, passing over any other (a client an earlier case closed). */
  private static RequestHead exchangeFor(String path) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      RequestHead exchange = agent.nextExchange("agent-a");
      if (exchange.target().equals(path)) {
        return exchange;
      }
    }
    throw new AssertionError("the request for " + path + " never reached the agent");
  }

  private static String batchStatus(HttpResponse<String> batch, String id) {
    if (batch.statusCode() == 204) {
      return "204";
    }
    assertEquals(200, batch.statusCode(), batch::body);
    try {
      List<BatchAnswer.Refusal> refused = Json.fromJson(batch.body(), BatchAnswer.class).refused();
      BatchAnswer.Refusal refusal = refused.stream().filter(r -> r.exchange().equals(id)).findFirst().orElseThrow();
      return refusal.status() + " " + refusal.message();
    } catch (Exception e) {
      throw new AssertionError("a batch answer that is not JSON: " + batch.body(), e);
    }
  }

  /**
   * Sends the end frame and ends the call's body. The proxy may have refused the call already (a
   * body past its length is refused as soon as it arrives) and closed it: its answer is read later.
   */
  private static void endCall(RawHttp call) {
    try {
      call.writeChunk(Frames.end()).endChunks();
    } catch (IOException refusedAlready) {
      // The answer tells what the proxy made of it.
    }
  }

  private static String agentAnswer(RawHttp call) {
    try (call) {
      RawHttp.Response answer = call.readResponse("POST");
      return answer.status() + " " + answer.bodyText();
    } catch (IOException e) {
      throw new AssertionError("the agent's response call got no answer", e);
    }
  }

  private static String request(String method, String path) {
    return method + " " + ProxyServer.CONTEXT_PATH + path + " HTTP/1.1\r\nHost: " + tunnel.host() + "\r\n\r\n";
  }

  private static String headJson(int status, long declared) {
    List<HeaderField> headers = new ArrayList<>();
    headers.add(new HeaderField("Content-Type", "application/octet-stream"));
    if (declared >= 0) {
      headers.add(new HeaderField("Content-Length", Long.toString(declared)));
    }
    return Json.toJson(new ResponseHead(status, headers, null, null));
  }

  private static byte[] entry(String id, String headJson, byte[] body) {
    return BatchedResponse.frame(id, headJson.getBytes(StandardCharsets.UTF_8), body, body.length);
  }

  private static byte[] pattern(int length) {
    try (InputStream in = Bodies.pattern(length)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
