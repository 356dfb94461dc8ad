package dev.drawbridge.proxy.web.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ContainerThreadsTest {

  @Test
  void theConfiguredLimitStandsWhereTheContainerDoesNotTell() {
    assertEquals(64, ContainerThreads.handshakeLimit(64, ContainerThreads.UNKNOWN));
  }

  @Test
  void theConfiguredLimitStandsBelowHalfTheThreads() {
    // Tomcat's connector with its default 200 threads.
    assertEquals(64, ContainerThreads.handshakeLimit(64, 200));
  }

  @Test
  void aSmallPoolLowersTheLimitToHalfItsThreads() {
    // WildFly's worker on two cores: 16 task threads per core.
    assertEquals(16, ContainerThreads.handshakeLimit(64, 32));
  }

  @Test
  void aSingleThreadStillAllowsOneHandshake() {
    assertEquals(1, ContainerThreads.handshakeLimit(64, 1));
  }
}
