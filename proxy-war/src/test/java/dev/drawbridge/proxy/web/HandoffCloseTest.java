package dev.drawbridge.proxy.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class HandoffCloseTest {

  /** The window between a pool's termination and its last thread's exit is short; try often. */
  private static final int ROUNDS = 50;

  @Test
  void everyHandoffThreadHasEndedWhenCloseReturns() throws Exception {
    for (int round = 0; round < ROUNDS; round++) {
      closeAndCheck();
    }
  }

  private static void closeAndCheck() throws Exception {
    List<Thread> others = liveHandoffThreads();
    Handoff handoff = new Handoff(3);
    List<Thread> mine = liveHandoffThreads().stream().filter(thread -> !others.contains(thread)).toList();
    assertEquals(3, mine.size(), "the pool starts its threads at once");
    CountDownLatch ran = new CountDownLatch(1);
    handoff.execute(ran::countDown);
    assertTrue(ran.await(20, TimeUnit.SECONDS));

    handoff.close();

    // A container looks for threads the application left as soon as its undeploy listeners return.
    assertTrue(mine.stream().noneMatch(Thread::isAlive), () -> "still alive: " + mine);
  }

  private static List<Thread> liveHandoffThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().startsWith("drawbridge-handoff-") && thread.isAlive())
        .toList();
  }
}
