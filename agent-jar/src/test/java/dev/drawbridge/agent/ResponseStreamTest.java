package dev.drawbridge.agent;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.BatchedResponse;
import dev.drawbridge.protocol.FrameReader;
import dev.drawbridge.protocol.Protocol;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.hc.core5.http.io.entity.AbstractHttpEntity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ResponseStreamTest {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration LONG = Duration.ofHours(1);

  private final ExecutorService carriers = Executors.newCachedThreadPool();
  /** The bodies of the calls made, each complete once its call ended. */
  private final List<ByteArrayOutputStream> calls = new CopyOnWriteArrayList<>();
  private final List<ByteArrayOutputStream> ended = new CopyOnWriteArrayList<>();
  /** What the fake node answers about the way; null for a node that does not know streams. */
  private final AtomicReference<String> verdict = new AtomicReference<>(Protocol.STREAM_PASSED);

  @AfterEach
  void stop() {
    carriers.shutdownNow();
  }

  /** A node that reads each stream as it is written and answers with {@link #verdict}. */
  private ProxyClient.BatchResult node(AbstractHttpEntity stream) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    calls.add(body);
    stream.writeTo(body);
    ended.add(body);
    return new ProxyClient.BatchResult(204, "", List.of(), verdict.get());
  }

  /** The batches of responses sent again after a stream broke: their exchange ids. */
  private final List<List<String>> sentAgain = new CopyOnWriteArrayList<>();

  private ProxyClient.BatchResult again(List<byte[]> frames) throws IOException {
    List<String> ids = new ArrayList<>();
    for (byte[] frame : frames) {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      body.write(frame);
      body.write(dev.drawbridge.protocol.Frames.end());
      ids.addAll(ids(body));
    }
    sentAgain.add(ids);
    return new ProxyClient.BatchResult(204, "", List.of());
  }

  private static byte[] frame(String id) {
    return BatchedResponse.frame(id, "{\"status\":200,\"headers\":[]}".getBytes(StandardCharsets.UTF_8), new byte[0], 0);
  }

  /** The exchange ids a stream's body carried, and whether it ended with the end frame. */
  private static List<String> ids(ByteArrayOutputStream body) throws IOException {
    FrameReader reader = FrameReader.forBatch();
    ByteBuffer buffer = ByteBuffer.wrap(body.toByteArray());
    List<String> ids = new ArrayList<>();
    while (reader.next(buffer) == FrameReader.Event.RESPONSE) {
      ids.add(BatchedResponse.parse(reader.response()).exchangeId());
    }
    assertTrue(reader.isFinished(), "every stream ends with the end frame");
    return ids;
  }

  /** Streams to a node whose check has passed, with {@code quiet} and {@code most} as given. */
  private ResponseStream checked(Duration quiet, Duration most) {
    ResponseStream streams = new ResponseStream(this::node, this::again, carriers, "node", quiet, most);
    assertNull(streams.submit(frame("before")), "no stream before the way was checked");
    await("the check").atMost(WAIT).until(streams::streaming);
    return streams;
  }

  @Test
  void theWayIsCheckedWithAnEmptyStreamBeforeAnyResponseIsStreamed() throws Exception {
    ResponseStream streams = checked(LONG, LONG);
    assertEquals(1, ended.size());
    assertEquals(List.of(), ids(ended.get(0)), "the check carries no response");
  }

  @Test
  void responsesGoIntoOneOpenStreamAndEachIsDeliveredOnceFlushed() throws Exception {
    ResponseStream streams = checked(LONG, LONG);
    for (String id : List.of("one", "two", "three")) {
      ResponseBatcher.Outcome outcome = streams.submit(frame(id)).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertTrue(outcome.delivered(), "flushed into the open stream");
    }
    assertEquals(2, calls.size(), "the check, then one stream for all three");
    streams.finish(WAIT);
    assertEquals(List.of("one", "two", "three"), ids(ended.get(1)));
  }

  @Test
  void aQuietStreamEndsAndTheNextResponseOpensAnother() throws Exception {
    ResponseStream streams = checked(Duration.ofMillis(50), LONG);
    streams.submit(frame("one")).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    await("the quiet stream ended").atMost(WAIT).until(() -> ended.size() == 2);
    assertEquals(List.of("one"), ids(ended.get(1)));
    streams.submit(frame("two")).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    await("the next stream ended").atMost(WAIT).until(() -> ended.size() == 3);
    assertEquals(List.of("two"), ids(ended.get(2)));
  }

  @Test
  void aRenewedNodeGetsTheNextResponseOnANewStream() throws Exception {
    ResponseStream streams = checked(LONG, LONG);
    streams.submit(frame("old")).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    streams.renew();
    await("the stream open before ended").atMost(WAIT).until(() -> ended.size() == 2);
    assertEquals(List.of("old"), ids(ended.get(1)));
    assertTrue(streams.submit(frame("new")).get(WAIT.toMillis(), TimeUnit.MILLISECONDS).delivered());
    streams.finish(WAIT);
    assertEquals(List.of("new"), ids(ended.get(2)), "on a stream of its own");
  }

  @Test
  void aStreamOpenForItsLongestEndsWhileResponsesKeepComing() throws Exception {
    ResponseStream streams = checked(LONG, Duration.ofMillis(50));
    streams.submit(frame("one")).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    await("the stream ended at its age").atMost(WAIT).until(() -> ended.size() == 2);
    assertEquals(List.of("one"), ids(ended.get(1)));
  }

  @Test
  void aWayThatCollectsTheStreamWholeMakesTheAgentSendPlainBatches() throws Exception {
    verdict.set(Protocol.STREAM_HELD);
    ResponseStream streams = new ResponseStream(this::node, this::again, carriers, "node", LONG, LONG);
    assertNull(streams.submit(frame("before")));
    await("the check answered").atMost(WAIT).until(() -> ended.size() == 1);
    assertNull(streams.submit(frame("after")), "held back: plain batches");
    assertEquals(1, calls.size(), "checked again only after a while");
  }

  @Test
  void aWayThatStartsCollectingEndsStreamingAtTheNextStreamsAnswer() throws Exception {
    ResponseStream streams = checked(Duration.ofMillis(50), LONG);
    verdict.set(Protocol.STREAM_HELD);
    assertTrue(streams.submit(frame("one")).get(WAIT.toMillis(), TimeUnit.MILLISECONDS).delivered());
    await("the stream's answer judged").atMost(WAIT).until(() -> !streams.streaming());
    assertNull(streams.submit(frame("two")), "held back: plain batches");
  }

  @Test
  void aNodeThatDoesNotKnowStreamsGetsPlainBatches() throws Exception {
    verdict.set(null);
    ResponseStream streams = new ResponseStream(this::node, this::again, carriers, "node", LONG, LONG);
    assertNull(streams.submit(frame("before")));
    await("the check answered").atMost(WAIT).until(() -> ended.size() == 1);
    assertNull(streams.submit(frame("after")));
    assertEquals(1, calls.size());
  }

  @Test
  void finishEndsTheOpenStreamAtOnceAndLaterResponsesGoInBatches() throws Exception {
    ResponseStream streams = checked(LONG, LONG);
    streams.submit(frame("one")).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    streams.finish(WAIT);
    assertEquals(2, ended.size(), "the stream's call ended within finish");
    assertEquals(List.of("one"), ids(ended.get(1)));
    assertNull(streams.submit(frame("two")));
  }

  @Test
  void aWriteThatFailsLeavesItsResponseToAPlainBatchAndTheNextOpensAnotherStream() throws Exception {
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    ResponseStream streams = new ResponseStream(stream -> {
      attempts.add(attempts.size());
      if (attempts.size() == 2) {
        stream.writeTo(new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            throw new IOException("connection reset");
          }
        });
        throw new AssertionError("the write failed");
      }
      return node(stream);
    }, this::again, carriers, "node", LONG, LONG);
    assertNull(streams.submit(frame("before")));
    await("the check").atMost(WAIT).until(streams::streaming);
    ResponseBatcher.Outcome failed = streams.submit(frame("one")).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertSame(ResponseBatcher.Outcome.UNSENT, failed, "left to a plain batch");
    assertTrue(streams.submit(frame("two")).get(WAIT.toMillis(), TimeUnit.MILLISECONDS).delivered());
    streams.finish(WAIT);
    assertEquals(List.of("two"), ids(ended.get(ended.size() - 1)));
    assertEquals(List.of(), sentAgain, "nothing written, nothing to send again");
  }

  @Test
  void theResponsesOfAStreamWhoseCallBrokeAreSentAgainInABatch() throws Exception {
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    ResponseStream streams = new ResponseStream(stream -> {
      attempts.add(attempts.size());
      if (attempts.size() == 2) {
        // Written into a connection the node had closed: the answer never comes.
        stream.writeTo(new ByteArrayOutputStream());
        throw new org.apache.hc.core5.http.NoHttpResponseException("the proxy failed to respond");
      }
      return node(stream);
    }, this::again, carriers, "node", Duration.ofMillis(50), LONG);
    assertNull(streams.submit(frame("before")));
    await("the check").atMost(WAIT).until(streams::streaming);
    assertTrue(streams.submit(frame("one")).get(WAIT.toMillis(), TimeUnit.MILLISECONDS).delivered());
    assertTrue(streams.submit(frame("two")).get(WAIT.toMillis(), TimeUnit.MILLISECONDS).delivered());
    await("sent again").atMost(WAIT).until(() -> sentAgain.size() == 1);
    assertEquals(List.of("one", "two"), sentAgain.get(0));
  }
}
