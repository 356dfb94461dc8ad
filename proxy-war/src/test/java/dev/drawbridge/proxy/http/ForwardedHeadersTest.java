package dev.drawbridge.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.HopByHop;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class ForwardedHeadersTest {

  private static List<HeaderField> fields(String... nameValues) {
    List<HeaderField> list = new ArrayList<>();
    for (int i = 0; i < nameValues.length; i += 2) {
      list.add(new HeaderField(nameValues[i], nameValues[i + 1]));
    }
    return list;
  }

  private static ForwardedHeaders.Hop untrusted(String peer, String host, String scheme, String protocol) {
    return new ForwardedHeaders.Hop(peer, peer, host, scheme, protocol, false);
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(
            "plain client",
            fields("Host", "app.example", "Accept", "*/*"),
            untrusted("203.0.113.7", "app.example", "https", "HTTP/1.1"),
            fields("Host", "app.example", "Accept", "*/*",
                "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example",
                "X-Real-IP", "203.0.113.7",
                "Forwarded", "for=203.0.113.7;proto=https;host=app.example", "Via", "1.1 drawbridge")),
        Arguments.of(
            "untrusted peer cannot forge its address",
            fields("Host", "h", "X-Forwarded-For", "1.2.3.4", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil",
                "X-Real-IP", "1.2.3.4", "Forwarded", "for=1.2.3.4"),
            untrusted("198.51.100.1", "h", "http", "HTTP/1.1"),
            fields("Host", "h", "X-Forwarded-For", "198.51.100.1", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "h",
                "X-Real-IP", "198.51.100.1",
                "Forwarded", "for=198.51.100.1;proto=http;host=h", "Via", "1.1 drawbridge")),
        Arguments.of(
            "trusted peer is extended",
            fields("Host", "h", "X-Forwarded-For", "1.2.3.4", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "public.example",
                "X-Real-IP", "1.2.3.4", "Forwarded", "for=1.2.3.4;proto=https"),
            new ForwardedHeaders.Hop("10.0.0.2", "1.2.3.4", "h", "http", "HTTP/1.1", true),
            fields("Host", "h", "X-Forwarded-For", "1.2.3.4, 10.0.0.2", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "public.example",
                "X-Real-IP", "1.2.3.4",
                "Forwarded", "for=1.2.3.4;proto=https, for=10.0.0.2;proto=http;host=h", "Via", "1.1 drawbridge")),
        Arguments.of(
            "trusted peer without X-Real-IP: the client it names",
            fields("Host", "h", "X-Forwarded-For", "1.2.3.4"),
            new ForwardedHeaders.Hop("10.0.0.2", "1.2.3.4", "h", "http", "HTTP/1.1", true),
            fields("Host", "h", "X-Forwarded-For", "1.2.3.4, 10.0.0.2", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "h",
                "X-Real-IP", "1.2.3.4",
                "Forwarded", "for=10.0.0.2;proto=http;host=h", "Via", "1.1 drawbridge")),
        Arguments.of(
            "Host named in Connection: forwarding headers still come from the container's Host",
            HopByHop.endToEnd(fields("Host", "app.example", "Connection", "close, Host", "Accept", "*/*")),
            untrusted("203.0.113.7", "app.example", "http", "HTTP/1.1"),
            fields("Host", "app.example", "Accept", "*/*",
                "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "app.example",
                "X-Real-IP", "203.0.113.7",
                "Forwarded", "for=203.0.113.7;proto=http;host=app.example", "Via", "1.1 drawbridge")),
        Arguments.of(
            "IPv6 peer, host with port, existing Via, HTTP/2",
            fields("Host", "h:8443", "Via", "1.0 fred"),
            untrusted("0:0:0:0:0:0:0:1", "h:8443", "https", "HTTP/2.0"),
            fields("Host", "h:8443", "Via", "1.0 fred",
                "X-Forwarded-For", "0:0:0:0:0:0:0:1", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "h:8443",
                "X-Real-IP", "0:0:0:0:0:0:0:1",
                "Forwarded", "for=\"[0:0:0:0:0:0:0:1]\";proto=https;host=\"h:8443\"", "Via", "2 drawbridge")),
        Arguments.of(
            "HTTP/1.0 without Host",
            fields("Accept", "*/*"),
            untrusted("203.0.113.7", null, "http", "HTTP/1.0"),
            fields("Accept", "*/*",
                "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "http",
                "X-Real-IP", "203.0.113.7",
                "Forwarded", "for=203.0.113.7;proto=http", "Via", "1.0 drawbridge")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void addsForwardingHeaders(String name, List<HeaderField> in, ForwardedHeaders.Hop hop, List<HeaderField> expected) {
    assertEquals(expected, ForwardedHeaders.add(in, hop, "drawbridge"));
  }

  @Test
  void withoutAPseudonymAddsNoViaAndKeepsTheClientsOwn() {
    List<HeaderField> out =
        ForwardedHeaders.add(fields("Host", "h", "Via", "1.0 fred"), untrusted("203.0.113.7", "h", "http", "HTTP/1.1"), null);
    assertEquals(
        List.of("1.0 fred"),
        out.stream().filter(field -> field.name().equalsIgnoreCase("Via")).map(HeaderField::value).toList());
  }

  @ParameterizedTest(name = "client prefix {0}, trusted {1}, own {2} -> {3}")
  @CsvSource(nullValues = "none", value = {
    // a sub-path deployment and a stripped route prefix name the public prefix
    "none,   false, /drawbridge/reports, /drawbridge/reports",
    // at the root with nothing stripped there is no prefix, and a client's own is dropped
    "none,   false, '',                  none",
    "/evil,  false, '',                  none",
    // an untrusted client's prefix is replaced by ours
    "/evil,  false, /drawbridge,         /drawbridge",
    // a trusted proxy's prefix goes in front of ours (it removed that part before calling us)
    "/edge/, true,  /drawbridge,         /edge/drawbridge",
    "/edge,  true,  '',                  /edge",
  })
  void namesThePublicPathPrefix(String clientPrefix, boolean trusted, String ownPrefix, String expected) {
    List<HeaderField> in = clientPrefix == null ? fields("Host", "h") : fields("Host", "h", "X-Forwarded-Prefix", clientPrefix);
    ForwardedHeaders.Hop hop = new ForwardedHeaders.Hop("10.0.0.2", "10.0.0.2", "h", "http", "HTTP/1.1", trusted);
    List<String> prefixes = ForwardedHeaders.add(in, hop, "drawbridge", ownPrefix).stream()
        .filter(field -> field.name().equals("X-Forwarded-Prefix"))
        .map(HeaderField::value)
        .toList();
    assertEquals(expected == null ? List.of() : List.of(expected), prefixes);
  }
}
