package dev.drawbridge.agent;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.BatchAnswer;
import dev.drawbridge.protocol.BatchedResponse;
import dev.drawbridge.protocol.FrameReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class ResponseBatcherTest {

  private final ExecutorService exchanges = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    exchanges.shutdownNow();
  }

  private static byte[] frame(String id) {
    return BatchedResponse.frame(id, "{\"status\":200,\"headers\":[]}".getBytes(StandardCharsets.UTF_8), new byte[0], 0);
  }

  /** The exchange ids of one batch's frames, in order. */
  private static List<String> ids(List<byte[]> frames) throws IOException {
    List<String> ids = new ArrayList<>();
    for (byte[] frame : frames) {
      FrameReader reader = FrameReader.forBatch();
      assertEquals(FrameReader.Event.RESPONSE, reader.next(ByteBuffer.wrap(frame)), "one whole response per frame");
      ids.add(BatchedResponse.parse(reader.response()).exchangeId());
    }
    return ids;
  }

  @Test
  void aBatchBodyIsItsFramesThenTheEndFrameWithItsLengthKnown() throws Exception {
    ResponseBatchEntity entity = new ResponseBatchEntity(List.of(frame("one"), frame("two")));
    java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
    entity.writeTo(body);
    assertEquals(body.size(), entity.getContentLength());
    FrameReader reader = FrameReader.forBatch();
    ByteBuffer buffer = ByteBuffer.wrap(body.toByteArray());
    List<String> ids = new ArrayList<>();
    while (reader.next(buffer) == FrameReader.Event.RESPONSE) {
      ids.add(BatchedResponse.parse(reader.response()).exchangeId());
    }
    assertTrue(reader.isFinished(), "every batch ends with an end frame");
    assertEquals(List.of("one", "two"), ids);
  }

  @Test
  void responsesThatArriveWhileTheSendersAreBusyShareTheNextCall() throws Exception {
    List<List<String>> calls = new CopyOnWriteArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    ResponseBatcher batcher =
        new ResponseBatcher(
            frames -> {
              calls.add(ids(frames));
              try {
                release.await(10, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return new ProxyClient.BatchResult(204, "", List.of());
            },
            Duration.ofSeconds(10));
    List<Future<ResponseBatcher.Outcome>> outcomes = new ArrayList<>();
    for (int i = 0; i < ResponseBatcher.SENDERS; i++) {
      String id = "busy-" + i;
      outcomes.add(exchanges.submit(() -> batcher.submit(id, frame(id)).join()));
      // One at a time, so that each becomes a sender with a call of its own.
      int started = i + 1;
      await().atMost(Duration.ofSeconds(10)).until(() -> calls.size() == started);
    }
    for (int i = 0; i < 5; i++) {
      // With both senders busy, a response is queued and the caller is free at once: its outcome
      // comes with the call that carries it.
      CompletableFuture<ResponseBatcher.Outcome> queued = batcher.submit("waiting-" + i, frame("waiting-" + i));
      assertFalse(queued.isDone());
      assertEquals(i + 1, batcher.queued());
      outcomes.add(queued);
    }
    release.countDown();
    for (Future<ResponseBatcher.Outcome> outcome : outcomes) {
      assertTrue(outcome.get(10, TimeUnit.SECONDS).delivered());
    }
    assertEquals(ResponseBatcher.SENDERS + 1, calls.size(), "the five waiting responses went in one call: " + calls);
    assertEquals(List.of("waiting-0", "waiting-1", "waiting-2", "waiting-3", "waiting-4"), calls.get(calls.size() - 1));
  }

  @Test
  void eachResponseLearnsItsOwnRefusalAndAFailedCallFailsEveryResponseInIt() throws Exception {
    ResponseBatcher refusing =
        new ResponseBatcher(
            frames -> new ProxyClient.BatchResult(200, "", List.of(new BatchAnswer.Refusal("gone", 410, "ended"))),
            Duration.ofSeconds(10));
    assertEquals(410, refusing.submit("gone", frame("gone")).join().status());
    assertTrue(refusing.submit("fine", frame("fine")).join().delivered());

    ResponseBatcher broken =
        new ResponseBatcher(
            frames -> {
              throw new IOException("connection reset");
            },
            Duration.ofSeconds(10));
    ResponseBatcher.Outcome outcome = broken.submit("lost", frame("lost")).join();
    assertNotNull(outcome.failure());
    assertEquals("connection reset", outcome.failure().getMessage());
    // The failed sender gave its place back: the next response still goes out.
    assertNotNull(broken.submit("next", frame("next")).join().failure());
  }

  @Test
  void aResponseNoCallCarriesInTimeGivesUpWithAFailure() throws Exception {
    CompletableFuture<Void> never = new CompletableFuture<>();
    java.util.concurrent.atomic.AtomicInteger callsStarted = new java.util.concurrent.atomic.AtomicInteger();
    ResponseBatcher stuck =
        new ResponseBatcher(
            frames -> {
              callsStarted.incrementAndGet();
              try {
                never.get(10, TimeUnit.SECONDS);
              } catch (Exception e) {
                throw new IOException(e);
              }
              return new ProxyClient.BatchResult(204, "", List.of());
            },
            Duration.ofMillis(200));
    List<Future<ResponseBatcher.Outcome>> senders = new ArrayList<>();
    for (int i = 0; i < ResponseBatcher.SENDERS; i++) {
      String id = "stuck-" + i;
      senders.add(exchanges.submit(() -> stuck.submit(id, frame(id)).join()));
      // One at a time, so that each becomes a sender with a call of its own.
      int calls = i + 1;
      await().atMost(Duration.ofSeconds(10)).until(() -> callsStarted.get() == calls);
    }
    ResponseBatcher.Outcome late = stuck.submit("late", frame("late")).join();
    assertNotNull(late.failure());
    assertTrue(late.failure().getMessage().startsWith("no response batch carried it"), late.failure().getMessage());
    assertEquals(0, stuck.queued(), "the abandoned response left the queue");
    never.complete(null);
    for (Future<ResponseBatcher.Outcome> sender : senders) {
      sender.get(10, TimeUnit.SECONDS);
    }
  }
}
