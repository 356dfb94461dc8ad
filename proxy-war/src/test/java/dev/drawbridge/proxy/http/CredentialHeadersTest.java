package dev.drawbridge.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.proxy.config.RouteSettings;
import dev.drawbridge.proxy.route.AddressRules;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class CredentialHeadersTest {

  private static final List<HeaderField> HEADERS =
      List.of(new HeaderField("Accept", "*/*"), new HeaderField("authorization", "Basic dTpw"), new HeaderField("X-A", "1"));

  private static RouteSettings route(List<String> roles, boolean forward) {
    return new RouteSettings(null, null, false, "b", roles, forward, AddressRules.NONE, 0, 1, true);
  }

  @Test
  void dropsTheCredentialTheProxyConsumed() {
    assertEquals(
        List.of(new HeaderField("Accept", "*/*"), new HeaderField("X-A", "1")),
        CredentialHeaders.forward(HEADERS, route(List.of("r"), false)));
  }

  @Test
  void keepsItWhenTheRouteForwardsCredentialsOrNeedsNoLogin() {
    assertEquals(HEADERS, CredentialHeaders.forward(HEADERS, route(List.of("r"), true)));
    assertEquals(HEADERS, CredentialHeaders.forward(HEADERS, route(List.of(), false)));
    assertEquals(HEADERS, CredentialHeaders.forward(HEADERS, null));
  }
}
