package dev.drawbridge.proxy.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class AddressRulesTest {

  private static List<Cidr> cidrs(String list) {
    return list.isBlank() ? List.of() : Arrays.stream(list.split(" ")).map(Cidr::parse).toList();
  }

  @ParameterizedTest(name = "allow [{0}] deny [{1}] {2} -> {3}")
  @CsvSource({
    "'',                      '',               203.0.113.9,        true",
    "10.0.0.0/8,              '',               10.200.3.4,         true",
    "10.0.0.0/8,              '',               11.0.0.1,           false",
    "10.0.0.0/8,              10.1.0.0/16,      10.1.2.3,           false",
    "10.0.0.0/8,              10.1.0.0/16,      10.2.2.3,           true",
    "'',                      192.0.2.7,        192.0.2.7,          false",
    "'',                      192.0.2.7,        192.0.2.8,          true",
    "192.168.1.128/25,        '',               192.168.1.127,      false",
    "192.168.1.128/25,        '',               192.168.1.128,      true",
    "0.0.0.0/0,               '',               8.8.8.8,            true",
    // IPv6, with brackets and zone ids as containers may report them
    "2001:db8::/32,           '',               2001:db8:1::5,      true",
    "2001:db8::/32,           '',               2001:db9::5,        false",
    "2001:db8::/32,           '',               [2001:db8::1],      true",
    "::1,                     '',               0:0:0:0:0:0:0:1,    true",
    "fe80::/10,               '',               fe80::1%eth0,       true",
    // an IPv4 rule also catches the IPv4-mapped IPv6 form of the address
    "'',                      10.0.0.0/8,       ::ffff:10.0.0.1,    false",
    "10.0.0.0/8,              '',               ::ffff:10.0.0.1,    true",
    // IPv4 rules never match IPv6 clients and the reverse
    "10.0.0.0/8,              '',               2001:db8::1,        false",
    // with rules, what is not an address is refused, never resolved
    "'',                      192.0.2.0/24,     localhost,          false",
    "10.0.0.0/8,              '',               '',                 false",
  })
  void decides(String allow, String deny, String client, boolean permitted) {
    assertEquals(permitted, new AddressRules(cidrs(allow), cidrs(deny)).permits(client));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/-1", "10.0.0/8", "example.com", "10.0.0.0/x", "300.1.1.1"})
  void refusesBadBlocks(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cidr.parse(text));
    assertEquals(-1, e.getMessage().indexOf('\n'));
  }
}
