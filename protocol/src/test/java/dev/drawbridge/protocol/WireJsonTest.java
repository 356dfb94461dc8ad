package dev.drawbridge.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The hand-written codec against JSON-B, which peers of the previous release still use: the same
 * bytes out, the same records in, both ways.
 */
class WireJsonTest {

  /** Text that JSON must escape, or that a careless writer could mangle. */
  private static final String AWKWARD =
      "quote \" backslash \\ slash / nul \u0000 bell \u0007 tab \t lf \n cr \r us \u001f del \u007f"
          + " \u00e9\u00fc \u65e5\u672c \uD83D\uDE00 \u2028\u2029 \uFFFD";

  private static final List<HeaderField> HEADERS =
      List.of(
          new HeaderField("Host", "app.example"),
          new HeaderField("Set-Cookie", "a=1"),
          new HeaderField("Set-Cookie", "b=2"),
          new HeaderField("X-Awkward", AWKWARD),
          new HeaderField("X-Empty", ""),
          new HeaderField("X-No-Value", null));

  private static final RequestHead INLINE =
      new RequestHead("id-1", "default", "PATCH", "/a%2Fb?q=1&q=2", HEADERS, BodyMode.INLINE, 3, "YWJj");
  private static final RequestHead STREAM =
      new RequestHead("id-2", "b\u00e4ckend", "POST", AWKWARD, List.of(), BodyMode.STREAM, Long.MAX_VALUE, null);
  private static final RequestHead BARE = new RequestHead(null, null, null, null, null, null, 0, null);

  static Stream<Record> messages() {
    return Stream.of(
        new PollResult(List.of(INLINE, STREAM), List.of("gone-1", "gone-2"), true),
        new PollResult(List.of(new RequestHead("id-3", "d", "GET", "/", HEADERS, BodyMode.NONE, -1, null)), List.of(), false),
        new PollResult(List.of(BARE), null, false),
        new PollResult(List.of(new RequestHead("id-5", "d", "GET", "/ws", HEADERS, BodyMode.NONE, 0, null, "websocket")), List.of(), false),
        new PollResult(List.of(new RequestHead("id-4", "d", "GET", "*", null, null, Long.MIN_VALUE, "")), List.of(), true),
        new PollResult(List.of(), List.of(), false),
        new PollResult(null, null, false),
        new ResponseHead(200, HEADERS, null, null),
        new ResponseHead(204, List.of(), null, null),
        new ResponseHead(Integer.MAX_VALUE, null, null, AWKWARD),
        new ResponseHead(Integer.MIN_VALUE, List.of(new HeaderField(null, null)), null, ""),
        ResponseHead.failed(Failure.BACKEND_UNREACHABLE, "Connection refused."),
        ResponseHead.failed(Failure.BACKEND_TIMEOUT, AWKWARD),
        ResponseHead.failed(Failure.BAD_BACKEND_RESPONSE, null),
        ResponseHead.failed(Failure.AGENT_DRAINING, "Stopping."),
        new BatchAnswer(List.of(new BatchAnswer.Refusal("e-1", 404, "No such exchange."), new BatchAnswer.Refusal("e-2", 400, AWKWARD))),
        new BatchAnswer(List.of(new BatchAnswer.Refusal(null, 0, null))),
        new BatchAnswer(List.of()),
        new BatchAnswer(null));
  }

  private static byte[] write(Record message) {
    if (message instanceof PollResult poll) {
      return WireJson.write(poll);
    }
    if (message instanceof ResponseHead head) {
      return WireJson.write(head);
    }
    return WireJson.write((BatchAnswer) message);
  }

  private static Record read(byte[] json, Class<?> type) throws FrameException {
    if (type == PollResult.class) {
      return WireJson.readPollResult(json);
    }
    if (type == ResponseHead.class) {
      return WireJson.readResponseHead(json);
    }
    return WireJson.readBatchAnswer(json);
  }

  private static byte[] utf8(String json) {
    return json.getBytes(StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @MethodSource("messages")
  void messagesRoundTrip(Record message) throws FrameException {
    assertEquals(message, read(write(message), message.getClass()));
  }

  @ParameterizedTest
  @MethodSource("messages")
  void writesTheBytesJsonBWrites(Record message) {
    assertArrayEquals(Json.toBytes(message), write(message), () -> Json.toJson(message));
  }

  @ParameterizedTest
  @MethodSource("messages")
  void readsWhatJsonBWrites(Record message) throws FrameException {
    assertEquals(message, read(Json.toBytes(message), message.getClass()));
  }

  @ParameterizedTest
  @MethodSource("messages")
  void jsonBReadsWhatItWrites(Record message) throws FrameException {
    assertEquals(message, Json.fromBytes(write(message), message.getClass()));
  }

  @Test
  void nullListElementsAreWrittenAsJsonBWritesThem() {
    // No caller sends them (and the reader refuses them), but the writer stays JSON-B's twin.
    List<String> cancelled = new ArrayList<>(Arrays.asList("a", null));
    List<RequestHead> exchanges = new ArrayList<>(Arrays.asList(INLINE, null));
    PollResult poll = new PollResult(exchanges, cancelled, false);
    assertArrayEquals(Json.toBytes(poll), WireJson.write(poll));
  }

  static Stream<Arguments> sparseDocuments() {
    return Stream.of(
        Arguments.of(PollResult.class, "{}"),
        Arguments.of(PollResult.class, "{\"exchanges\":[{}]}"),
        Arguments.of(PollResult.class, "{\"exchanges\":[{\"id\":\"x\",\"headers\":[{}]}],\"draining\":true}"),
        Arguments.of(PollResult.class, "{\"exchanges\":null,\"cancelled\":null}"),
        Arguments.of(PollResult.class, "{\"draining\":true,\"draining\":false}"),
        Arguments.of(PollResult.class, "{\"cancelled\":[\"a\"],\"cancelled\":[\"b\",\"c\"]}"),
        Arguments.of(PollResult.class, "{\"exchanges\":[{\"body\":null,\"inlineBody\":null,\"bodyLength\":-1}]}"),
        Arguments.of(ResponseHead.class, "{}"),
        Arguments.of(ResponseHead.class, "{\"status\":200}"),
        Arguments.of(ResponseHead.class, "{\"headers\":[{\"name\":\"A\"},{\"value\":\"v\"}]}"),
        Arguments.of(ResponseHead.class, "{\"status\":1,\"status\":2,\"message\":\"a\",\"message\":null}"),
        Arguments.of(ResponseHead.class, "{\"failure\":null,\"headers\":null}"),
        Arguments.of(ResponseHead.class, "{\"failure\":\"AGENT_DRAINING\"}"),
        Arguments.of(ResponseHead.class, " \t\r\n{ \"status\" : 2e2 , \"message\" : \"\\u00e9\\\"\" } \n"),
        Arguments.of(ResponseHead.class, "{\"status\":200.0}"),
        Arguments.of(ResponseHead.class, "{\"status\":-0}"),
        Arguments.of(BatchAnswer.class, "{}"),
        Arguments.of(BatchAnswer.class, "{\"refused\":[{}]}"),
        Arguments.of(BatchAnswer.class, "{\"refused\":[{\"status\":410}],\"refused\":[]}"));
  }

  /** Missing properties, nulls, duplicates and spacing: read as JSON-B reads them. */
  @ParameterizedTest
  @MethodSource("sparseDocuments")
  void readsSparseDocumentsAsJsonBDoes(Class<? extends Record> type, String json) throws FrameException {
    assertEquals(Json.fromJson(json, type), read(utf8(json), type));
  }

  @Test
  void unknownPropertiesAreSkippedWhateverTheyHold() throws FrameException {
    String unknown =
        "\"new1\":{\"a\":[1,{\"b\":[[],{}]},\"]}\"],\"c\":null},\"new2\":[[{\"status\":9}],[]],"
            + "\"new3\":\"status\",\"new4\":-1.5e3,\"new5\":true,\"new6\":false,\"new7\":null,";
    String poll =
        "{" + unknown + "\"exchanges\":[{" + unknown + "\"id\":\"i\",\"headers\":[{" + unknown
            + "\"name\":\"A\",\"value\":\"1\"}],\"body\":\"NONE\",\"bodyLength\":0}],"
            + unknown + "\"draining\":true}";
    assertEquals(
        new PollResult(
            List.of(new RequestHead("i", null, null, null, List.of(new HeaderField("A", "1")), BodyMode.NONE, 0, null)),
            null,
            true),
        WireJson.readPollResult(utf8(poll)));
    assertEquals(
        new ResponseHead(204, null, null, null),
        WireJson.readResponseHead(utf8("{" + unknown + "\"status\":204}")));
    assertEquals(
        new BatchAnswer(List.of(new BatchAnswer.Refusal("e", 409, null))),
        WireJson.readBatchAnswer(utf8("{\"refused\":[{" + unknown + "\"exchange\":\"e\",\"status\":409}]," + unknown.replaceAll(",$", "") + "}")));
  }

  @Test
  void malformedUtf8BecomesReplacementCharactersAsWithJsonB() throws FrameException {
    byte[] json = {'{', '"', 'm', 'e', 's', 's', 'a', 'g', 'e', '"', ':', '"', 'a', (byte) 0xff, '"', '}'};
    assertEquals(Json.fromBytes(json, ResponseHead.class), WireJson.readResponseHead(json));
    assertEquals("a\uFFFD", WireJson.readResponseHead(json).message());
  }
}
