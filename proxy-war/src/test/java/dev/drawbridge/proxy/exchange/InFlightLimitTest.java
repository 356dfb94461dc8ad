package dev.drawbridge.proxy.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class InFlightLimitTest {

  @Test
  void admitsUpToTheLimitPerBackendAndAgainAfterARelease() {
    InFlightLimit limit = new InFlightLimit();
    assertTrue(limit.tryAdmit("a", 2));
    assertTrue(limit.tryAdmit("a", 2));
    assertFalse(limit.tryAdmit("a", 2));
    assertTrue(limit.tryAdmit("b", 2), "backends count apart");
    limit.release("a");
    assertTrue(limit.tryAdmit("a", 2));
    assertEquals(2, limit.count("a"));
  }

  @Test
  void zeroMeansNoLimitAndReleasesNeverGoNegative() {
    InFlightLimit limit = new InFlightLimit();
    for (int i = 0; i < 1000; i++) {
      assertTrue(limit.tryAdmit("a", 0));
    }
    limit.release("unknown");
    for (int i = 0; i < 2000; i++) {
      limit.release("a");
    }
    assertEquals(0, limit.count("a"));
  }
}
