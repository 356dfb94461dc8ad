package dev.drawbridge.proxy.web;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class CallGuardTest {

  @Test
  void theLaneStaysOutOnceTheContainerEndedTheCall() {
    CallGuard guard = new CallGuard();
    assertTrue(guard.enter(), "a live call is open to the lane");
    guard.exit();

    AtomicBoolean ended = new AtomicBoolean();
    guard.endByContainer(() -> ended.set(true));

    assertTrue(ended.get());
    assertFalse(guard.enter(), "an ended call is closed to the lane");
    guard.exit();
  }

  @Test
  void theContainerEndsTheCallOnlyAfterTheLanesWorkInProgress() throws Exception {
    CallGuard guard = new CallGuard();
    AtomicBoolean laneDone = new AtomicBoolean();
    AtomicBoolean laneDoneWhenEnded = new AtomicBoolean();
    Thread container;
    assertTrue(guard.enter());
    try {
      container = new Thread(() -> guard.endByContainer(() -> laneDoneWhenEnded.set(laneDone.get())));
      container.start();
      laneDone.set(true);
    } finally {
      guard.exit();
    }
    container.join(TimeUnit.SECONDS.toMillis(30));
    assertFalse(container.isAlive());
    assertTrue(laneDoneWhenEnded.get(), "the call ended after the lane's work, not during it");
  }

  /** A lane stuck on the container's own connection lock must not hold the container's thread for good. */
  @Test
  void theContainerWaitsForAStuckLaneOnlySoLong() throws Exception {
    CallGuard guard = new CallGuard();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread lane = new Thread(() -> {
      guard.enter();
      try {
        entered.countDown();
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        guard.exit();
      }
    });
    lane.start();
    assertTrue(entered.await(30, TimeUnit.SECONDS));

    AtomicBoolean ended = new AtomicBoolean();
    guard.endByContainer(() -> ended.set(true));

    assertTrue(ended.get(), "the call is ended although the lane still holds it");
    release.countDown();
    lane.join(TimeUnit.SECONDS.toMillis(30));
    assertFalse(guard.enter(), "and the lane stays out afterwards");
    guard.exit();
  }

  /** A callback the container runs inline on the lane's own thread ends the request there and then. */
  @Test
  void anEndingInlineOnTheLanesThreadDoesNotWait() {
    CallGuard guard = new CallGuard();
    AtomicBoolean ended = new AtomicBoolean();
    assertTrue(guard.enter());
    try {
      guard.endByContainer(() -> ended.set(true));
      assertTrue(ended.get());
      assertTrue(guard.isEnded(), "the lane's loop sees the ending at its next step");
    } finally {
      guard.exit();
    }
  }

  @Test
  void aFinishedRequestIsClosedToTheLaneAtOnce() {
    CallGuard guard = new CallGuard();
    guard.markEnded();
    assertTrue(guard.isEnded());
    assertFalse(guard.enter());
    guard.exit();
  }
}
