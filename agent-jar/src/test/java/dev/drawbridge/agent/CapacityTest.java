package dev.drawbridge.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CapacityTest {

  @Test
  void reservesWhatIsFreeUpToTheBatch() throws Exception {
    Capacity capacity = new Capacity(40);
    assertEquals(32, capacity.reserve(32));
    assertEquals(8, capacity.reserve(32));
    assertEquals(0, capacity.free());
    capacity.release(5);
    assertEquals(5, capacity.reserve(32));
  }

  @Test
  void blocksUntilOneSlotIsFree() throws Exception {
    Capacity capacity = new Capacity(1);
    assertEquals(1, capacity.reserve(32));
    CompletableFuture<Integer> waiting = CompletableFuture.supplyAsync(() -> {
      try {
        return capacity.reserve(32);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    capacity.release(1);
    assertEquals(1, waiting.get(10, TimeUnit.SECONDS));
  }
}
