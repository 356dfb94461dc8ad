package dev.drawbridge.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.drawbridge.protocol.HeaderField;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ForwardedHeadersTest {

  private static List<HeaderField> fields(String... nameValues) {
    List<HeaderField> list = new ArrayList<>();
    for (int i = 0; i < nameValues.length; i += 2) {
      list.add(new HeaderField(nameValues[i], nameValues[i + 1]));
    }
    return list;
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(
            "plain client",
            fields("Host", "app.example", "Accept", "*/*"),
            "203.0.113.7", "https", "HTTP/1.1", false, "",
            fields("Host", "app.example", "Accept", "*/*",
                "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example",
                "Forwarded", "for=203.0.113.7;proto=https;host=app.example", "Via", "1.1 drawbridge")),
        Arguments.of(
            "untrusted peer cannot forge its address",
            fields("Host", "h", "X-Forwarded-For", "1.2.3.4", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil", "Forwarded", "for=1.2.3.4"),
            "198.51.100.1", "http", "HTTP/1.1", false, "",
            fields("Host", "h", "X-Forwarded-For", "198.51.100.1", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "h",
                "Forwarded", "for=198.51.100.1;proto=http;host=h", "Via", "1.1 drawbridge")),
        Arguments.of(
            "trusted peer is extended",
            fields("Host", "h", "X-Forwarded-For", "1.2.3.4", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "public.example", "Forwarded", "for=1.2.3.4;proto=https"),
            "10.0.0.2", "http", "HTTP/1.1", true, "",
            fields("Host", "h", "X-Forwarded-For", "1.2.3.4, 10.0.0.2", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "public.example",
                "Forwarded", "for=1.2.3.4;proto=https, for=10.0.0.2;proto=http;host=h", "Via", "1.1 drawbridge")),
        Arguments.of(
            "IPv6 peer, host with port, existing Via, HTTP/2",
            fields("Host", "h:8443", "Via", "1.0 fred"),
            "0:0:0:0:0:0:0:1", "https", "HTTP/2.0", false, "",
            fields("Host", "h:8443", "Via", "1.0 fred",
                "X-Forwarded-For", "0:0:0:0:0:0:0:1", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "h:8443",
                "Forwarded", "for=\"[0:0:0:0:0:0:0:1]\";proto=https;host=\"h:8443\"", "Via", "2 drawbridge")),
        Arguments.of(
            "sub-path deployment and a stripped route prefix name the public prefix",
            fields("Host", "h"),
            "203.0.113.7", "https", "HTTP/1.1", false, "/drawbridge/reports",
            fields("Host", "h", "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "h",
                "X-Forwarded-Prefix", "/drawbridge/reports",
                "Forwarded", "for=203.0.113.7;proto=https;host=h", "Via", "1.1 drawbridge")),
        Arguments.of(
            "an untrusted client's prefix is replaced, and dropped at the root",
            fields("Host", "h", "X-Forwarded-Prefix", "/evil"),
            "203.0.113.7", "http", "HTTP/1.1", false, "",
            fields("Host", "h", "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "h",
                "Forwarded", "for=203.0.113.7;proto=http;host=h", "Via", "1.1 drawbridge")),
        Arguments.of(
            "an untrusted client's prefix is replaced by the context path",
            fields("Host", "h", "X-Forwarded-Prefix", "/evil"),
            "203.0.113.7", "http", "HTTP/1.1", false, "/drawbridge",
            fields("Host", "h", "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "h",
                "X-Forwarded-Prefix", "/drawbridge",
                "Forwarded", "for=203.0.113.7;proto=http;host=h", "Via", "1.1 drawbridge")),
        Arguments.of(
            "a trusted proxy's prefix goes in front of ours",
            fields("Host", "h", "X-Forwarded-Prefix", "/edge/"),
            "10.0.0.2", "http", "HTTP/1.1", true, "/drawbridge",
            fields("Host", "h", "X-Forwarded-For", "10.0.0.2", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "h",
                "X-Forwarded-Prefix", "/edge/drawbridge",
                "Forwarded", "for=10.0.0.2;proto=http;host=h", "Via", "1.1 drawbridge")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void addsForwardingHeaders(String name, List<HeaderField> in, String peer, String scheme, String protocol,
      boolean trusted, String prefix, List<HeaderField> expected) {
    assertEquals(expected, ForwardedHeaders.add(in, peer, scheme, protocol, trusted, "drawbridge", prefix));
  }
}
