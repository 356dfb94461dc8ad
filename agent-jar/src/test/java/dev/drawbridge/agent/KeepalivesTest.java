package dev.drawbridge.agent;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.protocol.FrameReader;
import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.ResponseHead;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Keepalive frames on the agent's streams to the proxy. The ticks are driven by the test (the
 * interval is a day, so the ticking thread never fires), and a response upload is written into
 * memory while its backend body is held between two pieces.
 */
@Timeout(30)
class KeepalivesTest {

  private static final Duration NEVER = Duration.ofDays(1);
  private static final long WAIT_SECONDS = 10;

  private final Keepalives keepalives = new Keepalives(NEVER, "test-keepalive");
  private final ExecutorService uploads = Executors.newSingleThreadExecutor();

  @AfterEach
  void stop() {
    keepalives.close();
    uploads.shutdownNow();
  }

  @Test
  void aStreamThatCarriedNothingSinceTheLastTickGetsOneKeepalivePerTick() {
    AtomicInteger sent = new AtomicInteger();
    Keepalives.Registration stream = keepalives.register(sent::incrementAndGet);

    keepalives.tick();
    keepalives.tick();
    assertEquals(2, sent.get());

    stream.carried();
    keepalives.tick();
    assertEquals(2, sent.get(), "bytes since the last tick: no keepalive due");
    keepalives.tick();
    assertEquals(3, sent.get());

    stream.close();
    keepalives.tick();
    assertEquals(3, sent.get(), "a closed stream gets none");
    assertEquals(0, keepalives.registered());
  }

  @Test
  void noneAndAZeroIntervalRegisterNothing() {
    AtomicInteger sent = new AtomicInteger();
    try (Keepalives off = new Keepalives(Duration.ZERO, "off")) {
      off.register(sent::incrementAndGet);
      Keepalives.NONE.registerBlocking(sent::incrementAndGet);
      off.tick();
      Keepalives.NONE.tick();
      assertEquals(0, off.registered() + Keepalives.NONE.registered());
      assertEquals(0, sent.get());
    }
  }

  @Test
  void aBlockedWriteHoldsUpNoOtherStreamAndIsNotRepeatedWhileItWaits() throws Exception {
    CountDownLatch proxyTakes = new CountDownLatch(1);
    AtomicInteger stuckCalls = new AtomicInteger();
    LinkedBlockingQueue<String> stuckSent = new LinkedBlockingQueue<>();
    AtomicInteger freeSent = new AtomicInteger();
    keepalives.registerBlocking(() -> {
      stuckCalls.incrementAndGet();
      try {
        proxyTakes.await(WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        throw new InterruptedIOException();
      }
      stuckSent.add("stuck");
    });
    keepalives.registerBlocking(freeSent::incrementAndGet);

    // Ticks until the free stream sent twice (each send must be over before the next starts).
    await().atMost(WAIT_SECONDS, TimeUnit.SECONDS).until(() -> {
      keepalives.tick();
      return freeSent.get() >= 2;
    });
    assertEquals(1, stuckCalls.get(), "one send at a time per stream");

    proxyTakes.countDown();
    assertEquals("stuck", stuckSent.poll(WAIT_SECONDS, TimeUnit.SECONDS));
  }

  @Test
  void aResponseUploadCarriesKeepalivesWhileTheBackendIsSilentAndNoneAfterItsEnd() throws Exception {
    HeldBody backend = new HeldBody();
    ResponseUpload upload = new ResponseUpload(new ResponseHead(200, List.of(), null, null), backend, keepalives);
    SharedOutput proxy = new SharedOutput();
    Future<?> writing = uploads.submit(() -> {
      upload.writeTo(proxy);
      return null;
    });
    assertTrue(backend.firstPieceTaken.await(WAIT_SECONDS, TimeUnit.SECONDS));
    awaitRegistered(1);

    keepalives.tick();
    assertEquals(List.of("H", "D:first"), proxy.frames(), "the first piece went out since the last tick");
    // Each further tick sends one once the send before it is over.
    await().atMost(WAIT_SECONDS, TimeUnit.SECONDS).until(() -> {
      keepalives.tick();
      return proxy.frames().stream().filter("K"::equals).count() >= 2;
    });

    backend.release.countDown();
    writing.get(WAIT_SECONDS, TimeUnit.SECONDS);
    List<String> frames = proxy.frames();
    keepalives.tick();
    assertEquals(frames, proxy.frames(), "no keepalive after the end");
    // A send the last tick began may land after the second piece, never after the end.
    assertEquals(List.of("H", "D:first", "D:second", "E"), frames.stream().filter(frame -> !frame.equals("K")).toList());
    assertTrue(frames.subList(frames.indexOf("D:first"), frames.indexOf("D:second")).stream().filter("K"::equals).count() >= 2,
        "keepalives while the backend was silent: " + frames);
    assertEquals(0, keepalives.registered(), "the upload left the ticks when it ended");
  }

  private void awaitRegistered(int count) {
    await().atMost(WAIT_SECONDS, TimeUnit.SECONDS).until(() -> keepalives.registered() == count);
  }

  /** A backend body: "first", then nothing until released, then "second" and the end. */
  private static final class HeldBody extends InputStream {
    final CountDownLatch firstPieceTaken = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    private int piece;

    @Override
    public int read() {
      throw new UnsupportedOperationException();
    }

    @Override
    public int read(byte[] target, int offset, int length) throws IOException {
      piece++;
      if (piece == 1) {
        return copy("first", target, offset);
      }
      if (piece == 2) {
        firstPieceTaken.countDown();
        try {
          if (!release.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
            throw new IOException("never released");
          }
        } catch (InterruptedException e) {
          throw new InterruptedIOException();
        }
        return copy("second", target, offset);
      }
      return -1;
    }

    private static int copy(String text, byte[] target, int offset) {
      byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(bytes, 0, target, offset, bytes.length);
      return bytes.length;
    }
  }

  /** What the proxy received, decoded into frames; written by two threads under the upload's lock. */
  private static final class SharedOutput extends ByteArrayOutputStream {

    synchronized List<String> frames() throws Exception {
      FrameReader reader = new FrameReader(true);
      List<String> frames = new ArrayList<>();
      byte[] bytes = toByteArray();
      // Keepalives are skipped by readers, so count them from the raw frame headers instead.
      int at = 0;
      while (at + Frames.HEADER_LENGTH <= bytes.length) {
        byte type = bytes[at];
        int length = ByteBuffer.wrap(bytes, at + 1, 4).getInt();
        String payload = new String(bytes, at + Frames.HEADER_LENGTH, length, StandardCharsets.UTF_8);
        frames.add(type == Frames.DATA ? "D:" + payload : String.valueOf((char) type));
        at += Frames.HEADER_LENGTH + length;
      }
      // A reader takes the same bytes as a well-formed stream.
      ByteBuffer all = ByteBuffer.wrap(bytes);
      while (reader.next(all) != FrameReader.Event.NEED_MORE && !reader.isFinished()) {
        continue;
      }
      return frames;
    }

  }
}
