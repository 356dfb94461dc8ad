package dev.drawbridge.protocol;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whatever a peer sends, reading ends in a record or a {@link FrameException} with a short message,
 * never another exception and never a hang. JSON-B let some of these through (a string for a
 * number, an overflowing number wrapped round, trailing garbage); this reader does not.
 */
class WireJsonStrictnessTest {

  private static void assertRefused(Executable read) {
    // Preemptive: a reader that loops forever must fail the test, not stall the build.
    FrameException refused =
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(FrameException.class, read));
    String message = refused.getMessage();
    assertTrue(message != null && !message.isBlank() && message.length() <= 200, message);
  }

  private static byte[] utf8(String json) {
    return json.getBytes(StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        " \n ",
        "null",
        "[]",
        "[{\"status\":200}]",
        "200",
        "\"status\"",
        "true",
        "{",
        "{\"status\"",
        "{\"status\":",
        "{\"status\":200",
        "{\"status\":200,",
        "{\"status\":200,}",
        "{status:200}",
        "{'status':200}",
        "{\"status\":200} x",
        "{\"status\":200}{}",
        "{\"status\":200}]",
        "\uFEFF{\"status\":200}",
        "{\"status\":\"200\"}",
        "{\"status\":null}",
        "{\"status\":true}",
        "{\"status\":200.5}",
        "{\"status\":2.5e0}",
        "{\"status\":1e-7}",
        "{\"status\":2147483648}",
        "{\"status\":-2147483649}",
        "{\"status\":99999999999}",
        "{\"status\":1e10}",
        "{\"status\":1e999999999999}",
        "{\"status\":[200]}",
        "{\"status\":{}}",
        "{\"status\":0x10}",
        "{\"status\":NaN}",
        "{\"status\":+1}",
        "{\"status\":01}",
        "{\"failure\":\"NOPE\"}",
        "{\"failure\":\"backend_timeout\"}",
        "{\"failure\":\"\"}",
        "{\"failure\":3}",
        "{\"failure\":[\"AGENT_DRAINING\"]}",
        "{\"message\":3}",
        "{\"message\":true}",
        "{\"message\":{}}",
        "{\"message\":[\"a\"]}",
        "{\"message\":\"\\x\"}",
        "{\"message\":\"\\u12\"}",
        "{\"message\":\"unterminated}",
        "{\"message\":\"raw \n newline\"}",
        "{\"headers\":{}}",
        "{\"headers\":\"Host: a\"}",
        "{\"headers\":[null]}",
        "{\"headers\":[1]}",
        "{\"headers\":[\"Host\"]}",
        "{\"headers\":[[]]}",
        "{\"headers\":[{\"name\":1,\"value\":\"v\"}]}",
        "{\"headers\":[{\"name\":\"n\",\"value\":false}]}",
        "{\"headers\":[{\"name\":\"n\",\"value\":\"v\"}",
        "{\"headers\":[{\"name\":\"n\",\"value\":\"v\"},]}",
        "{\"unknown\":[1,",
        "{\"unknown\":{\"a\":1",
        "{\"unknown\":[1 2]}",
        "{\"unknown\":{\"a\" 1}}",
        "{\"unknown\":[}",
        "{\"unknown\":tru}",
      })
  void malformedResponseHeadsAreFrameExceptions(String json) {
    assertRefused(() -> WireJson.readResponseHead(utf8(json)));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "null",
        "[]",
        "{\"draining\":\"true\"}",
        "{\"draining\":1}",
        "{\"draining\":null}",
        "{\"cancelled\":\"a\"}",
        "{\"cancelled\":[1]}",
        "{\"cancelled\":[null]}",
        "{\"cancelled\":[[\"a\"]]}",
        "{\"cancelled\":[\"a\",]}",
        "{\"exchanges\":{}}",
        "{\"exchanges\":[null]}",
        "{\"exchanges\":[\"id\"]}",
        "{\"exchanges\":[{\"bodyLength\":\"5\"}]}",
        "{\"exchanges\":[{\"bodyLength\":null}]}",
        "{\"exchanges\":[{\"bodyLength\":9223372036854775808}]}",
        "{\"exchanges\":[{\"bodyLength\":1e30}]}",
        "{\"exchanges\":[{\"bodyLength\":0.5}]}",
        "{\"exchanges\":[{\"body\":\"CHUNKED\"}]}",
        "{\"exchanges\":[{\"body\":\"inline\"}]}",
        "{\"exchanges\":[{\"id\":7}]}",
        "{\"exchanges\":[{\"headers\":[{\"name\":[]}]}]}",
        "{\"exchanges\":[{\"id\":\"i\"}]",
        "{\"exchanges\":[{\"id\":\"i\"}]}}",
      })
  void malformedPollResultsAreFrameExceptions(String json) {
    assertRefused(() -> WireJson.readPollResult(utf8(json)));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "null",
        "\"refused\"",
        "{\"refused\":{}}",
        "{\"refused\":[null]}",
        "{\"refused\":[{\"status\":\"404\"}]}",
        "{\"refused\":[{\"status\":404.5}]}",
        "{\"refused\":[{\"status\":4294967296}]}",
        "{\"refused\":[{\"exchange\":1}]}",
        "{\"refused\":[{\"message\":{}}]}",
        "{\"refused\":[{}]",
      })
  void malformedBatchAnswersAreFrameExceptions(String json) {
    assertRefused(() -> WireJson.readBatchAnswer(utf8(json)));
  }

  @Test
  void everyTruncationOfAValidMessageIsAFrameException() {
    byte[] poll =
        WireJson.write(
            new PollResult(
                List.of(new RequestHead("i", "d", "GET", "/\u00e9", List.of(new HeaderField("A", "\"1\"")), BodyMode.STREAM, 12, null)),
                List.of("c"),
                true));
    byte[] head = WireJson.write(new ResponseHead(200, List.of(new HeaderField("A", "\\")), null, null));
    byte[] answer = WireJson.write(new BatchAnswer(List.of(new BatchAnswer.Refusal("e", 404, "gone"))));
    for (int length = 0; length < poll.length; length++) {
      byte[] cut = Arrays.copyOf(poll, length);
      assertRefused(() -> WireJson.readPollResult(cut));
    }
    for (int length = 0; length < head.length; length++) {
      byte[] cut = Arrays.copyOf(head, length);
      assertRefused(() -> WireJson.readResponseHead(cut));
    }
    for (int length = 0; length < answer.length; length++) {
      byte[] cut = Arrays.copyOf(answer, length);
      assertRefused(() -> WireJson.readBatchAnswer(cut));
    }
  }

  @Test
  void absurdNestingAndNumbersAreFrameExceptions() {
    String deep = "[".repeat(5000) + "]".repeat(5000);
    assertRefused(() -> WireJson.readResponseHead(utf8("{\"unknown\":" + deep + ",\"status\":200}")));
    String deepObjects = "{\"a\":".repeat(5000) + "1" + "}".repeat(5000);
    assertRefused(() -> WireJson.readPollResult(utf8("{\"unknown\":" + deepObjects + "}")));
    String longNumber = "1" + "0".repeat(5000);
    assertRefused(() -> WireJson.readResponseHead(utf8("{\"status\":" + longNumber + "}")));
    assertRefused(() -> WireJson.readPollResult(utf8("{\"exchanges\":[{\"bodyLength\":" + longNumber + "}]}")));
  }

  @Test
  void aLongUnknownNumberIsSkippedLikeAnyOtherValue() throws FrameException {
    // Only numbers the reader converts are bounded; one it skips is never converted.
    String json = "{\"unknown\":1" + "0".repeat(5000) + ",\"status\":200}";
    assertTrue(WireJson.readResponseHead(utf8(json)).status() == 200);
  }
}
