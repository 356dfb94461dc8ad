package dev.drawbridge.proxy.fuzz;

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
import java.nio.ByteBuffer;

/**
 * Everything an agent's response call feeds the proxy, decoded as the proxy decodes it: frames cut
 * at arbitrary read boundaries, the JSON head, and the head rules. The only allowed failure is a
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
