package dev.drawbridge.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class OwnThreadsTest {

  @Test
  void awaitEndedWaitsForAThreadStillRunningAndReportsWhenItHasEnded() throws Exception {
    OwnThreads threads = new OwnThreads("drawbridge-test");
    CountDownLatch release = new CountDownLatch(1);
    Thread thread = threads.newThread(() -> awaitQuietly(release));
    thread.start();

    assertFalse(threads.awaitEnded(Duration.ofMillis(50)), "a thread still running has not ended");
    release.countDown();
    assertTrue(threads.awaitEnded(Duration.ofSeconds(20)));
    assertFalse(thread.isAlive());
  }

  @Test
  void threadsOfAStoppedExecutorHaveAllEndedOnceAwaited() throws Exception {
    OwnThreads threads = new OwnThreads("drawbridge-test");
    ExecutorService executor = Executors.newSingleThreadScheduledExecutor(threads);
    AtomicReference<Thread> worker = new AtomicReference<>();
    executor.submit(() -> worker.set(Thread.currentThread())).get(20, TimeUnit.SECONDS);

    executor.shutdownNow();
    assertTrue(executor.awaitTermination(20, TimeUnit.SECONDS));
    assertTrue(threads.awaitEnded(Duration.ofSeconds(20)));
    assertFalse(worker.get().isAlive(), "the executor's thread has exited, not only finished its tasks");
    assertEquals("drawbridge-test", worker.get().getName());
    assertTrue(worker.get().isDaemon());
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
