package dev.drawbridge.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class UpgradeSlotsTest {

  @Test
  void admitsUpToTheLimitInForceAtEachHandshake() {
    AtomicInteger max = new AtomicInteger(2);
    UpgradeSlots slots = new UpgradeSlots(max::get);
    assertTrue(slots.tryAdmit());
    assertTrue(slots.tryAdmit());
    assertFalse(slots.tryAdmit(), "the third waits for a place");
    assertEquals(2, slots.open());

    max.set(3);
    assertTrue(slots.tryAdmit(), "a reload's higher limit applies to the next handshake");
    slots.release();
    slots.release();
    max.set(1);
    assertFalse(slots.tryAdmit(), "a lower limit admits nothing until enough closed");
    slots.release();
    assertTrue(slots.tryAdmit());
  }

  @Test
  void zeroMeansNoLimit() {
    UpgradeSlots slots = new UpgradeSlots(() -> 0);
    for (int i = 0; i < 1000; i++) {
      assertTrue(slots.tryAdmit());
    }
    assertEquals(1000, slots.open());
  }
}
