package dev.drawbridge.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class JsonTest {

  @Test
  void pollResultsRoundTrip() throws FrameException {
    RequestHead head =
        new RequestHead("id1", "default", "PATCH", "/a%2Fb?q=1&q=2", List.of(new HeaderField("Set-Cookie", "a=1"), new HeaderField("Set-Cookie", "b=2")), BodyMode.INLINE, 3, "YWJj");
    PollResult poll = new PollResult(List.of(head), List.of("gone"), true);
    assertEquals(poll, Json.fromBytes(Json.toBytes(poll), PollResult.class));
  }

  @Test
  void failureHeadsRoundTrip() throws FrameException {
    ResponseHead head = ResponseHead.failed(Failure.BACKEND_TIMEOUT, "The backend did not answer.");
    assertEquals(head, Json.fromJson(Json.toJson(head), ResponseHead.class));
    assertEquals(504, head.failure().status());
  }

  @Test
  void malformedJsonIsAFrameException() {
    assertThrows(FrameException.class, () -> Json.fromJson("{\"status\":", ResponseHead.class));
    assertThrows(FrameException.class, () -> Json.fromJson("null", ResponseHead.class));
  }
}
