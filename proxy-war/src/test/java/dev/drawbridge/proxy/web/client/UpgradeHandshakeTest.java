package dev.drawbridge.proxy.web.client;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class UpgradeHandshakeTest {

  @Test
  void onlyJetty121NeedsTheHandshakeToDeclareItsLength() {
    assertTrue(UpgradeHandshake.switchNeedsDeclaredLength("jetty/12.1.14"));
    assertTrue(UpgradeHandshake.switchNeedsDeclaredLength("Jetty/12.1.0"));
    assertFalse(UpgradeHandshake.switchNeedsDeclaredLength("jetty/12.0.32"), "12.0 has no servlet upgrade at all");
    assertFalse(UpgradeHandshake.switchNeedsDeclaredLength("Apache Tomcat/11.0.24"));
    assertFalse(UpgradeHandshake.switchNeedsDeclaredLength("WildFly Full 39.0.1.Final (WildFly Core 31.0.3.Final) - 2.3.19.Final"));
    assertFalse(UpgradeHandshake.switchNeedsDeclaredLength(null));
  }
}
