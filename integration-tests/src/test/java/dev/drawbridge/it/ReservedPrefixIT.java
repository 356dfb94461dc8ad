package dev.drawbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.drawbridge.it.support.RawHttp;
import dev.drawbridge.it.support.TunnelFixture;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reserved prefix {@code /_drawbridge} belongs to the proxy in every spelling: percent-encoded
 * in any character or twice, with doubled slashes, dot segments or path parameters. None of them
 * reaches the backend, and none reaches a proxy endpoint without its login: the answer is the
 * proxy's 404, or the container's own 400 or 401 where it refuses or maps the spelling itself.
 */
@Timeout(300)
class ReservedPrefixIT {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Set<Integer> REFUSALS = Set.of(400, 401, 404);
  private static TunnelFixture tunnel;

  @BeforeAll
  static void start() {
    tunnel = TunnelFixture.start();
  }

  @AfterAll
  static void stop() {
    if (tunnel != null) {
      tunnel.close();
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/_drawbridge/nothing-here",
        "/%5Fdrawbridge/nothing-here",
        "/%5fdrawbridge/nothing-here",
        "/_drawbridg%65/nothing-here",
        "/_drawbridg%65/admin/api/status",
        "/%5F%64rawbridge/metrics",
        "/%255Fdrawbridge/nothing-here",
        "//_drawbridge/nothing-here",
        "/_drawbridge;x=1/nothing-here",
        "/public/../_drawbridge/nothing-here",
        "/public/%2e%2e/_drawbridg%65/nothing-here",
      })
  void everySpellingOfTheReservedPrefixStaysWithTheProxy(String path) throws Exception {
    tunnel.backend().drainRequests();
    try (RawHttp client = RawHttp.connect(tunnel.proxy().port(), WAIT)) {
      RawHttp.Response response = client.exchange("GET", "/drawbridge" + path, tunnel.host(), List.of());
      assertTrue(REFUSALS.contains(response.status()), () -> path + " answered " + response.status() + ": " + response.bodyText());
    }
    // A forwarded request is recorded by the backend before its answer comes back: none may be.
    assertEquals(List.of(), tunnel.backend().drainRequests(), () -> path + " reached the backend");
  }
}
