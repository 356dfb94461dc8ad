package dev.drawbridge.proxy.web.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.proxy.web.CallGuard;
import dev.drawbridge.proxy.web.Handoff;
import dev.drawbridge.proxy.web.Lane;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ClientAnswersTest {

  private final Handoff handoff = new Handoff(1);
  private final Lane lane = handoff.lane();
  private final CallGuard guard = new CallGuard();
  private final ClientAnswers answers = new ClientAnswers(lane, guard);

  @AfterEach
  void stop() {
    handoff.close();
  }

  @Test
  void anAnswerDecidedInTheContainersErrorCallbackIsGivenThere() {
    AtomicReference<Thread> givenOn = new AtomicReference<>();
    answers.endOnError(() -> answers.give(() -> givenOn.set(Thread.currentThread())));
    assertSame(Thread.currentThread(), givenOn.get());
  }

  @Test
  void anAnswerTheLaneHasNotStartedIsGivenByTheErrorCallbackOnce() throws Exception {
    CountDownLatch laneBusy = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    lane.execute(() -> {
      laneBusy.countDown();
      await(release);
    });
    assertTrue(laneBusy.await(30, TimeUnit.SECONDS));
    AtomicInteger given = new AtomicInteger();
    AtomicReference<Thread> givenOn = new AtomicReference<>();
    answers.give(() -> {
      given.incrementAndGet();
      givenOn.set(Thread.currentThread());
    });

    answers.endOnError(() -> {});

    assertEquals(1, given.get(), "given before the callback returned");
    assertSame(Thread.currentThread(), givenOn.get());
    release.countDown();
    drainLane();
    assertEquals(1, given.get(), "and not again by the lane");
  }

  @Test
  void theLaneLeavesTheRequestAloneOnceTheContainerEndedIt() throws Exception {
    answers.endOnError(() -> {});
    AtomicInteger ran = new AtomicInteger();
    answers.inLane(ran::incrementAndGet);
    drainLane();
    assertEquals(0, ran.get());
  }

  @Test
  void aLiveRequestsAnswersRunInTheLane() throws Exception {
    AtomicReference<Thread> givenOn = new AtomicReference<>();
    answers.give(() -> givenOn.set(Thread.currentThread()));
    drainLane();
    assertTrue(givenOn.get() != null && givenOn.get() != Thread.currentThread(), "given by the lane's thread");
  }

  /** Waits until the lane ran everything queued before this call. */
  private void drainLane() throws InterruptedException {
    CountDownLatch drained = new CountDownLatch(1);
    lane.execute(drained::countDown);
    assertTrue(drained.await(30, TimeUnit.SECONDS));
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
