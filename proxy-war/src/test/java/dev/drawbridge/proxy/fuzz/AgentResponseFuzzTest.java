package dev.drawbridge.proxy.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.drawbridge.protocol.BatchedResponse;
import dev.drawbridge.protocol.FrameException;
import dev.drawbridge.protocol.FrameReader;
import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.HeaderValidation;
import dev.drawbridge.protocol.ResponseHead;
import dev.drawbridge.protocol.WireJson;
import dev.drawbridge.proxy.http.ResponseHeadRules;
import dev.drawbridge.proxy.http.ResponseLength;
import java.nio.ByteBuffer;

/**
 * Everything an agent's response call feeds the proxy, decoded as the proxy decodes it: frames cut
 * at arbitrary read boundaries, the JSON head, the head rules, and the body length held against the
 * head's declared length. The only allowed failure is a
 * {@link FrameException} (400 to the agent); any other exception, or an accepted head carrying a
 * header the client must never see, is a finding. Without {@code JAZZER_FUZZ=1} this replays the
 * inputs under {@code src/test/resources/.../AgentResponseFuzzTestInputs/} (crash inputs are kept
 * there as regression tests); with it, Jazzer explores for up to 30 s.
 */
class AgentResponseFuzzTest {

  @FuzzTest(maxDuration = "30s")
  void responseStreamNeverCrashesTheDecoder(FuzzedDataProvider data) {
    FrameReader reader = new FrameReader(true);
    try {
      while (data.remainingBytes() > 0) {
        // Containers hand over bodies in reads of any size; frames must survive every split.
        byte[] read = data.consumeBytes(data.consumeInt(1, 4096));
        ByteBuffer in = ByteBuffer.wrap(read);
        while (true) {
          FrameReader.Event event = reader.next(in);
          if (event == FrameReader.Event.NEED_MORE) {
            break;
          }
          if (event == FrameReader.Event.HEAD) {
            judge(reader.head());
          }
          if (event == FrameReader.Event.END || event == FrameReader.Event.ABORT) {
            return;
          }
        }
      }
    } catch (FrameException expected) {
      // Malformed input from an agent: the proxy answers 400 and the client 502.
    }
  }

  @FuzzTest(maxDuration = "30s")
  void responseBatchNeverCrashesTheDecoder(FuzzedDataProvider data) {
    FrameReader reader = FrameReader.forBatch();
    try {
      while (data.remainingBytes() > 0) {
        ByteBuffer in = ByteBuffer.wrap(data.consumeBytes(data.consumeInt(1, 4096)));
        while (true) {
          FrameReader.Event event = reader.next(in);
          if (event == FrameReader.Event.NEED_MORE) {
            break;
          }
          if (event == FrameReader.Event.END) {
            return;
          }
          BatchedResponse response = BatchedResponse.parse(reader.response());
          assertTrue(response.bodyLength() >= 0 && response.bodyLength() <= Frames.MAX_BATCHED_BODY);
          judge(response.head());
        }
      }
    } catch (FrameException expected) {
      // Malformed batch: the proxy answers 400; the responses before it stand.
    }
  }

  /**
   * The length rule as the streamed relay applies it: a head declares a length, data is counted
   * against it, and the end is accepted only at that length. Whatever the agent sends, a body
   * accepted as complete holds exactly the declared bytes (none for HEAD, 204 and 304), and no byte
   * past the declared length is ever let through. The first input byte picks the client's method.
   */
  @FuzzTest(maxDuration = "30s")
  void aBodyEndsNormallyOnlyAtItsDeclaredLength(byte[] input) {
    if (input.length == 0) {
      return;
    }
    String method = (input[0] & 1) == 0 ? "GET" : "HEAD";
    FrameReader reader = new FrameReader(true);
    ByteBuffer in = ByteBuffer.wrap(input, 1, input.length - 1);
    ResponseLength length = null;
    long passed = 0;
    try {
      while (true) {
        FrameReader.Event event = reader.next(in);
        switch (event) {
          case HEAD:
            ResponseHead head = WireJson.readResponseHead(reader.head());
            if (head.failure() != null) {
              return;
            }
            ResponseHeadRules.Verdict verdict = ResponseHeadRules.judge(head, "1.1 drawbridge");
            if (!verdict.accepted()) {
              return;
            }
            length = ResponseLength.of(method, verdict.status(), verdict.contentLength());
            if (ResponseLength.mustBeEmpty(method, verdict.status())) {
              assertEquals(0, length.expected(), "a body that must be empty has length 0");
            }
            break;
          case DATA:
            if (!length.admit(reader.dataLength())) {
              assertTrue(length.expected() >= 0 && passed + reader.dataLength() > length.expected(), "refused only past the length");
              return;
            }
            passed += reader.dataLength();
            assertTrue(length.expected() < 0 || passed <= length.expected(), "never past the declared length");
            break;
          case END:
            if (length.complete()) {
              assertTrue(length.expected() < 0 || passed == length.expected(), "complete only at the declared length");
            }
            return;
          default:
            return;
        }
      }
    } catch (FrameException expected) {
      // Malformed stream or head: the agent gets 400, the client 502.
    }
  }

  /** The batched form of the same rule: a whole body is delivered only at its declared length. */
  @FuzzTest(maxDuration = "30s")
  void aBatchedBodyIsDeliveredOnlyAtItsDeclaredLength(FuzzedDataProvider data) {
    String method = data.consumeBoolean() ? "HEAD" : "GET";
    int status = data.consumeInt(200, 599);
    long declared = data.consumeLong(-1, Frames.MAX_BATCHED_BODY * 2L);
    int body = data.consumeInt(0, Frames.MAX_BATCHED_BODY);
    boolean fits = ResponseLength.of(method, status, declared).fitsWhole(body);
    boolean empty = ResponseLength.mustBeEmpty(method, status);
    assertEquals(empty ? body == 0 : declared < 0 || declared == body, fits, method + " " + status + " " + declared + " " + body);
  }

  @FuzzTest(maxDuration = "30s")
  void headRulesNeverPassAnUnsafeHead(byte[] json) {
    try {
      judge(json);
    } catch (FrameException expected) {
      // Not a response head at all: refused before the rules run.
    }
  }

  private static void judge(byte[] headJson) throws FrameException {
    ResponseHead head = WireJson.readResponseHead(headJson);
    if (head.failure() != null || head.headers() == null) {
      return;
    }
    ResponseHeadRules.Verdict verdict = ResponseHeadRules.judge(head, "1.1 drawbridge");
    if (verdict.accepted()) {
      assertTrue(verdict.status() >= 200 && verdict.status() <= 599, "status " + verdict.status());
      for (HeaderField field : verdict.headers()) {
        assertTrue(HeaderValidation.isValidName(field.name()), "name " + field.name());
        assertTrue(HeaderValidation.isValidValue(field.value()), "value of " + field.name());
      }
    }
  }
}
