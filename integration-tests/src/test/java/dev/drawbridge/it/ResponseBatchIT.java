package dev.drawbridge.it;

import static dev.drawbridge.it.support.HandPlayedAgent.frames;
import static dev.drawbridge.it.support.HandPlayedAgent.okHeadJson;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.HandPlayedAgent;
import dev.drawbridge.it.support.HandPlayedAgent.Delivered;
import dev.drawbridge.it.support.TunnelFixture;
import dev.drawbridge.protocol.BatchAnswer;
import dev.drawbridge.protocol.BatchedResponse;
import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.Json;
import dev.drawbridge.protocol.ResponseHead;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The batched response call ({@code POST .../responses}) played by hand: whole responses of several
 * exchanges in one call, each checked like its own response call, and a defined answer for every
 * malformed or misdirected entry.
 */
@Timeout(300)
class ResponseBatchIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static TunnelFixture tunnel;
  private static HandPlayedAgent agent;

  @BeforeAll
  static void start() {
    tunnel = TunnelFixture.startWithoutAgent(config -> config.set("pollWaitSeconds", 1));
    agent = new HandPlayedAgent(tunnel, HttpClient.newBuilder().connectTimeout(WAIT).build(), WAIT);
  }

  @AfterAll
  static void stop() {
    if (tunnel != null) {
      tunnel.close();
    }
  }

  private static byte[] entry(String id, String headJson, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return BatchedResponse.frame(id, headJson.getBytes(StandardCharsets.UTF_8), bytes, bytes.length);
  }

  private static HttpResponse<String> client(Delivered delivered) throws Exception {
    return delivered.client().get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private static List<BatchAnswer.Refusal> refusals(HttpResponse<String> answer) throws Exception {
    assertEquals(200, answer.statusCode(), answer::body);
    return Json.fromJson(answer.body(), BatchAnswer.class).refused();
  }

  @Test
  void oneCallAnswersSeveralClients() throws Exception {
    Delivered first = agent.deliver("/one", "agent-a");
    Delivered second = agent.deliver("/two", "agent-a");
    Delivered third = agent.deliver("/three", "agent-a");
    HttpResponse<String> answer =
        agent.answerBatch(
            "agent-a",
            frames(
                entry(first.id(), okHeadJson(), "first"),
                entry(second.id(), okHeadJson(), ""),
                entry(third.id(), okHeadJson(), "third"),
                Frames.end()));
    assertEquals(204, answer.statusCode(), answer::body);
    assertEquals("first", client(first).body());
    assertEquals(200, client(second).statusCode());
    assertEquals("", client(second).body());
    assertEquals("third", client(third).body());
    assertEquals(first.id(), client(first).headers().firstValue("Drawbridge-Exchange-Id").orElseThrow());
  }

  @Test
  void misdirectedEntriesAreListedWithTheStatusOfTheirOwnCallAndTheRestAreDelivered() throws Exception {
    Delivered delivered = agent.deliver("/mine", "agent-a");
    List<BatchAnswer.Refusal> foreign =
        refusals(agent.answerBatch("agent-b", frames(entry(delivered.id(), okHeadJson(), "stolen"), Frames.end())));
    assertEquals(List.of(403), foreign.stream().map(BatchAnswer.Refusal::status).toList());
    assertFalse(delivered.client().isDone(), "the client still waits for its own agent");

    List<BatchAnswer.Refusal> unknown =
        refusals(
            agent.answerBatch(
                "agent-a",
                frames(
                    entry("AAAAAAAAAAAAAAAAAAAAAA", okHeadJson(), "nobody"),
                    entry(delivered.id(), okHeadJson(), "mine"),
                    Frames.end())));
    assertEquals(1, unknown.size());
    assertEquals("AAAAAAAAAAAAAAAAAAAAAA", unknown.get(0).exchange());
    assertEquals(404, unknown.get(0).status());
    assertEquals("mine", client(delivered).body());

    List<BatchAnswer.Refusal> replay =
        refusals(agent.answerBatch("agent-a", frames(entry(delivered.id(), okHeadJson(), "again"), Frames.end())));
    int status = replay.get(0).status();
    assertTrue(status == 409 || status == 410 || status == 404, "a replayed answer is refused, got " + status);
  }

  @Test
  void aBodyThatDisagreesWithItsContentLengthGivesTheClient502() throws Exception {
    Delivered delivered = agent.deliver("/short", "agent-a");
    String head = Json.toJson(new ResponseHead(200, List.of(new HeaderField("Content-Length", "10")), null, null));
    List<BatchAnswer.Refusal> refused =
        refusals(agent.answerBatch("agent-a", frames(entry(delivered.id(), head, "abc"), Frames.end())));
    assertEquals(400, refused.get(0).status());
    assertEquals(502, client(delivered).statusCode());
  }

  @Test
  void anUnsafeHeadIsRefusedForItsEntryAndNothingOfItReachesTheClient() throws Exception {
    Delivered delivered = agent.deliver("/evil", "agent-a");
    String evil = "{\"status\":200,\"headers\":[{\"name\":\"X-Evil\",\"value\":\"a\\r\\nSet-Cookie: evil=1\"}]}";
    List<BatchAnswer.Refusal> refused =
        refusals(agent.answerBatch("agent-a", frames(entry(delivered.id(), evil, "evil body"), Frames.end())));
    assertEquals(400, refused.get(0).status());
    HttpResponse<String> response = client(delivered);
    assertEquals(502, response.statusCode());
    assertFalse(response.body().contains("evil"));
    assertTrue(response.headers().map().keySet().stream().noneMatch(name -> name.equalsIgnoreCase("Set-Cookie")));
  }

  @Test
  void aBatchCutBeforeItsEndIs400AndTheWholeEntriesBeforeTheCutStand() throws Exception {
    Delivered whole = agent.deliver("/whole", "agent-a");
    byte[] complete = entry(whole.id(), okHeadJson(), "whole");
    HttpResponse<String> answer = agent.answerBatch("agent-a", complete);
    assertEquals(400, answer.statusCode());
    assertEquals(1, answer.body().strip().lines().count(), "one sentence");
    assertEquals("whole", client(whole).body());
  }

  @Test
  void framesThatDoNotBelongInABatchAre400() throws Exception {
    byte[] streamed = frames(HandPlayedAgent.okHead(), Frames.end());
    assertEquals(400, agent.answerBatch("agent-a", streamed).statusCode());
    byte[] entry = entry("AAAAAAAAAAAAAAAAAAAAAA", okHeadJson(), "x");
    // The id claims more bytes than the frame holds.
    entry[Frames.HEADER_LENGTH] = (byte) 200;
    assertEquals(400, agent.answerBatch("agent-a", frames(entry, Frames.end())).statusCode());
    byte[] garbage = "Xevil garbage".getBytes(StandardCharsets.UTF_8);
    assertEquals(400, agent.answerBatch("agent-a", garbage).statusCode());
    assertEquals(400, agent.answerBatch("agent-a", Arrays.copyOf(Frames.end(), 3)).statusCode());
  }
}
