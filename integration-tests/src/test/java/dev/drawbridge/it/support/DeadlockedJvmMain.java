package dev.drawbridge.it.support;

import java.util.concurrent.CountDownLatch;

/**
 * A JVM that deadlocks two threads on two monitors at once and then waits to be killed, so a test
 * can prove that {@link ThreadDump} finds deadlocks in other JVMs.
 */
public final class DeadlockedJvmMain {

  /** Printed once both threads hold their first monitor and wait for the other's. */
  public static final String DEADLOCKED = "deadlocked";

  private DeadlockedJvmMain() {}

  public static void main(String[] args) throws InterruptedException, java.io.IOException {
    Object first = new Object();
    Object second = new Object();
    CountDownLatch bothHoldOne = new CountDownLatch(2);
    Thread one = new Thread(() -> lockInTurn(first, second, bothHoldOne), "deadlocked-one");
    Thread two = new Thread(() -> lockInTurn(second, first, bothHoldOne), "deadlocked-two");
    one.setDaemon(true);
    two.setDaemon(true);
    one.start();
    two.start();
    bothHoldOne.await();
    System.out.println(DEADLOCKED);
    System.out.flush();
    while (System.in.read() != -1) {
      // Ends with its standard input, like the forked proxy.
    }
  }

  private static void lockInTurn(Object held, Object wanted, CountDownLatch bothHoldOne) {
    synchronized (held) {
      bothHoldOne.countDown();
      try {
        bothHoldOne.await();
      } catch (InterruptedException e) {
        return;
      }
      synchronized (wanted) {
        throw new AssertionError("the two threads were meant to deadlock");
      }
    }
  }
}
