package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CapacityTest {

  /** A node in a test: takes work unless told otherwise. */
  private static final class Node implements Capacity.Owner {
    volatile boolean takesWork = true;

    @Override
    public boolean takesWork() {
      return takesWork;
    }
  }

  private static CompletableFuture<Integer> reserveLater(Capacity capacity, Capacity.Owner node) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return capacity.reserve(node, 32);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  @Test
  void oneNodeReservesWhatIsFreeUpToItsPollsPart() throws Exception {
    Capacity capacity = new Capacity(40, 1);
    Node node = new Node();
    capacity.join(node);
    assertEquals(32, capacity.reserve(node, 32), "one poll: the batch limit");
    assertEquals(8, capacity.reserve(node, 32), "then what is left");
    assertEquals(0, capacity.free());
    capacity.settle(node, 32, 27);
    assertEquals(5, capacity.free(), "the slots the poll did not fill");
    assertEquals(5, capacity.reserve(node, 32));
  }

  @Test
  void aNodesTwoPollsSplitItsShare() throws Exception {
    Capacity capacity = new Capacity(64, 2);
    Node node = new Node();
    capacity.join(node);
    assertEquals(32, capacity.reserve(node, 32));
    assertEquals(32, capacity.reserve(node, 32));
  }

  @Test
  void blocksUntilOneSlotIsFree() throws Exception {
    Capacity capacity = new Capacity(1, 1);
    Node node = new Node();
    capacity.join(node);
    assertEquals(1, capacity.reserve(node, 32));
    CompletableFuture<Integer> waiting = reserveLater(capacity, node);
    capacity.release(0);
    capacity.settle(node, 1, 1);
    capacity.release(1);
    assertEquals(1, waiting.get(10, TimeUnit.SECONDS));
  }

  @Test
  void anIdleNodeParksNoMoreThanItsShare() throws Exception {
    Capacity capacity = new Capacity(60, 2);
    Node idle = new Node();
    Node busy = new Node();
    capacity.join(idle);
    capacity.join(busy);
    int parked = capacity.reserve(idle, 32) + capacity.reserve(idle, 32);
    assertEquals(30, parked, "half of the budget, split over its two polls");
    assertEquals(30, capacity.free(), "the other half stays for the busy node");
  }

  @Test
  void everyNodeGetsAPollBeforeAnyGetsASecondWhenSlotsAreShort() throws Exception {
    Capacity capacity = new Capacity(4, 2);
    Node a = new Node();
    Node b = new Node();
    Node c = new Node();
    capacity.join(a);
    capacity.join(b);
    capacity.join(c);
    assertEquals(1, capacity.reserve(a, 32));
    assertEquals(1, capacity.reserve(a, 32), "a second poll: one slot stays for each of b and c");
    CompletableFuture<Integer> third = reserveLater(capacity, a);
    assertThrows(TimeoutException.class, () -> third.get(600, TimeUnit.MILLISECONDS), "b and c are owed theirs");
    assertEquals(1, capacity.reserve(b, 32));
    assertEquals(1, capacity.reserve(c, 32));
    assertEquals(0, capacity.free());
    // c's poll fails: its node is down, so its slot goes to the waiting poll.
    c.takesWork = false;
    capacity.settle(c, 1, 0);
    assertEquals(1, third.get(10, TimeUnit.SECONDS));
  }

  @Test
  void aNodeThatTakesNoWorkIsOwedNothing() throws Exception {
    Capacity capacity = new Capacity(2, 2);
    Node up = new Node();
    Node down = new Node();
    capacity.join(up);
    capacity.join(down);
    assertEquals(1, capacity.reserve(up, 32));
    CompletableFuture<Integer> second = reserveLater(capacity, up);
    assertThrows(TimeoutException.class, () -> second.get(600, TimeUnit.MILLISECONDS), "the last slot is down's");
    down.takesWork = false;
    assertEquals(1, second.get(10, TimeUnit.SECONDS), "seen without any call once the node is down");
  }

  @Test
  void theNextFreeSlotGoesToTheNodeReservingFewest() throws Exception {
    Capacity capacity = new Capacity(2, 2);
    Node a = new Node();
    Node b = new Node();
    capacity.join(a);
    capacity.join(b);
    assertEquals(1, capacity.reserve(a, 32));
    assertEquals(1, capacity.reserve(b, 32));
    CompletableFuture<Integer> aWaits = reserveLater(capacity, a);
    assertThrows(TimeoutException.class, () -> aWaits.get(300, TimeUnit.MILLISECONDS));
    // b's poll brings one exchange; b asks again while a already waits.
    capacity.settle(b, 1, 1);
    CompletableFuture<Integer> bWaits = reserveLater(capacity, b);
    assertThrows(TimeoutException.class, () -> bWaits.get(300, TimeUnit.MILLISECONDS));
    capacity.release(1);
    assertEquals(1, bWaits.get(10, TimeUnit.SECONDS), "b reserves nothing, a one slot: b first");
    assertFalse(aWaits.isDone());
    capacity.settle(a, 1, 0);
    assertEquals(1, aWaits.get(10, TimeUnit.SECONDS));
    assertTrue(capacity.free() >= 0);
  }

  private static void assertThrows(Class<? extends Throwable> type, org.junit.jupiter.api.function.Executable call, String... message) {
    org.junit.jupiter.api.Assertions.assertThrows(type, call, message.length == 0 ? null : message[0]);
  }
}
