package dev.drawbridge.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.ResponseHead;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ResponseHeadRulesTest {

  private static List<HeaderField> fields(String... nameValues) {
    List<HeaderField> list = new ArrayList<>();
    for (int i = 0; i < nameValues.length; i += 2) {
      list.add(new HeaderField(nameValues[i], nameValues[i + 1]));
    }
    return list;
  }

  static Stream<Arguments> refused() {
    List<HeaderField> many = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      many.add(new HeaderField("X-" + i, "v"));
    }
    return Stream.of(
        Arguments.of(101, fields(), "not a final HTTP status"),
        Arguments.of(99, fields(), "not a final HTTP status"),
        Arguments.of(600, fields(), "not a final HTTP status"),
        Arguments.of(200, fields("Bad Name", "x"), "invalid header name"),
        Arguments.of(200, fields("X-Split", "a\r\nSet-Cookie: evil=1"), "invalid value"),
        Arguments.of(200, fields("X-Nul", "a\0b"), "invalid value"),
        Arguments.of(200, fields("Content-Length", "5", "Content-Length", "6"), "conflicting Content-Length"),
        Arguments.of(200, fields("Content-Length", "5", "Transfer-Encoding", "chunked"), "both Content-Length and Transfer-Encoding"),
        Arguments.of(200, fields("Content-Length", "-1"), "invalid Content-Length"),
        Arguments.of(200, fields("Content-Length", "5, 5x"), "invalid Content-Length"),
        Arguments.of(200, many, "more than 256 header fields"));
  }

  @ParameterizedTest
  @MethodSource("refused")
  void refusesHeadsThatCouldSplitOrSmuggle(int status, List<HeaderField> headers, String error) {
    ResponseHeadRules.Verdict verdict = ResponseHeadRules.judge(new ResponseHead(status, headers, null, null), "1.1 drawbridge");
    assertEquals(false, verdict.accepted());
    assertEquals(true, verdict.error().contains(error), verdict.error());
  }

  @Test
  void refusesAHeadTooLargeForTheClientsContainerAndKeepsOneThatFits() {
    // Forty 200-byte fields: about 8.5 KB, which Tomcat and Jetty fail to write by default.
    List<HeaderField> forty = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      forty.add(new HeaderField("X-H" + i, "v".repeat(200)));
    }
    ResponseHeadRules.Verdict refused = ResponseHeadRules.judge(new ResponseHead(200, forty, null, null), "1.1 drawbridge");
    assertEquals(false, refused.accepted());
    assertEquals(true, refused.error().contains("more than the 8192 a response head may take"), refused.error());
    ResponseHeadRules.Verdict handshake =
        ResponseHeadRules.judgeUpgrade(new ResponseHead(101, withUpgrade(forty), null, null), "1.1 drawbridge", "websocket");
    assertEquals(false, handshake.accepted());

    List<HeaderField> thirtyFive = new ArrayList<>(forty.subList(0, 35));
    ResponseHeadRules.Verdict kept = ResponseHeadRules.judge(new ResponseHead(200, thirtyFive, null, null), "1.1 drawbridge");
    assertNull(kept.error());
    assertEquals(36, kept.headers().size());
  }

  private static List<HeaderField> withUpgrade(List<HeaderField> fields) {
    List<HeaderField> all = new ArrayList<>(fields);
    all.add(new HeaderField("Upgrade", "websocket"));
    return all;
  }

  @Test
  void keepsEndToEndHeadersAndAppendsVia() {
    ResponseHeadRules.Verdict verdict =
        ResponseHeadRules.judge(
            new ResponseHead(201, fields("Set-Cookie", "a=1", "Set-Cookie", "b=2", "Connection", "X-Hop", "X-Hop", "1", "Keep-Alive", "5", "Content-Length", "12", "Content-Length", "12", "Via", "1.1 backend"), null, null),
            "1.1 drawbridge");
    assertNull(verdict.error());
    assertEquals(201, verdict.status());
    assertEquals(12, verdict.contentLength());
    assertEquals(fields("Set-Cookie", "a=1", "Set-Cookie", "b=2", "Via", "1.1 backend", "Via", "1.1 drawbridge"), verdict.headers());
  }

  @Test
  void bodilessStatusesCarryNoLength() {
    assertEquals(-1, ResponseHeadRules.judge(new ResponseHead(204, fields("Content-Length", "0"), null, null), "1.1 d").contentLength());
    assertEquals(-1, ResponseHeadRules.judge(new ResponseHead(304, fields("Content-Length", "10"), null, null), "1.1 d").contentLength());
  }
}
