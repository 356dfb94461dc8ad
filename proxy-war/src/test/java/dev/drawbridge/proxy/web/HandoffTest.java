package dev.drawbridge.proxy.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class HandoffTest {

  @Test
  void closeReturnsOnlyOnceEveryThreadHasEnded() throws Exception {
    List<Thread> before = handoffThreads();
    Handoff handoff = new Handoff(3);
    CountDownLatch ran = new CountDownLatch(1);
    handoff.execute(ran::countDown);
    assertTrue(ran.await(30, TimeUnit.SECONDS));
    List<Thread> started = handoffThreads().stream().filter(thread -> !before.contains(thread)).toList();
    assertEquals(3, started.size(), "all threads start with the pool");

    handoff.close();

    // A container looks for threads the application left as soon as its undeploy listeners return.
    assertTrue(started.stream().noneMatch(Thread::isAlive), () -> "still alive: " + started);
  }

  @Test
  void aTaskHandedOverAfterCloseRunsOnTheCallingThread() {
    Handoff handoff = new Handoff(1);
    handoff.close();
    Thread[] ranOn = new Thread[1];
    handoff.execute(() -> ranOn[0] = Thread.currentThread());
    assertEquals(Thread.currentThread(), ranOn[0]);
  }

  private static List<Thread> handoffThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().startsWith("drawbridge-handoff-") && thread.isAlive())
        .toList();
  }
}
