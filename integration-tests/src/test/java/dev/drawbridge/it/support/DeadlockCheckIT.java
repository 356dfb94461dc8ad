package dev.drawbridge.it.support;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The check every end-to-end test ends with finds deadlocks, here and in other JVMs. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class DeadlockCheckIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void findsTwoThreadsOfThisJvmDeadlockedOnLocks() throws Exception {
    assertNull(DeadlockCheck.inThisJvm(), "no deadlock before the test");
    ReentrantLock first = new ReentrantLock();
    ReentrantLock second = new ReentrantLock();
    CountDownLatch bothHoldOne = new CountDownLatch(2);
    Thread one = new Thread(() -> lockInTurn(first, second, bothHoldOne), "deadlock-check-one");
    Thread two = new Thread(() -> lockInTurn(second, first, bothHoldOne), "deadlock-check-two");
    one.start();
    two.start();
    try {
      String report = await().atMost(WAIT).until(DeadlockCheck::inThisJvm, Objects::nonNull);
      assertTrue(report.contains("deadlock-check-one") && report.contains("deadlock-check-two"), report);
    } finally {
      // Interruptible waits let the cycle break, so the check after this test finds nothing.
      one.interrupt();
      two.interrupt();
      one.join(WAIT.toMillis());
      two.join(WAIT.toMillis());
    }
    assertNull(DeadlockCheck.inThisJvm(), "the deadlock is resolved");
  }

  @Test
  void findsTwoThreadsOfAnotherJvmDeadlockedOnMonitors() throws Exception {
    Process child =
        new ProcessBuilder(
                List.of(
                    BuiltArtifacts.javaLauncher().toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    DeadlockedJvmMain.class.getName()))
            .redirectErrorStream(true)
            .start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      assertEquals(DeadlockedJvmMain.DEADLOCKED, out.readLine());
      String report = ThreadDump.deadlocks(child.pid());
      assertTrue(report != null && report.contains("deadlocked-one") && report.contains("deadlocked-two"),
          () -> "jcmd's report: " + report);
    } finally {
      child.destroyForcibly();
      child.waitFor(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  @Test
  void findsNothingInAHealthyJvm() {
    String dump = ThreadDump.print(ProcessHandle.current().pid());
    assertTrue(dump != null && dump.contains("Full thread dump"), () -> "a thread dump: " + dump);
    assertNull(ThreadDump.deadlocks(ProcessHandle.current().pid()));
  }

  private static void lockInTurn(ReentrantLock held, ReentrantLock wanted, CountDownLatch bothHoldOne) {
    held.lock();
    try {
      bothHoldOne.countDown();
      bothHoldOne.await();
      wanted.lockInterruptibly();
      wanted.unlock();
    } catch (InterruptedException e) {
      // The test ends the deadlock this way.
    } finally {
      held.unlock();
    }
  }
}
