package dev.drawbridge.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BatchedResponseTest {

  private static final byte[] HEAD = "{\"status\":200,\"headers\":[]}".getBytes(StandardCharsets.UTF_8);

  private static byte[] batch(byte[]... frames) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] frame : frames) {
      out.writeBytes(frame);
    }
    out.writeBytes(Frames.end());
    return out.toByteArray();
  }

  /** Reads a batch fed {@code piece} bytes at a time: "id=body" per response. */
  private static List<String> read(byte[] stream, int piece) throws FrameException {
    FrameReader reader = FrameReader.forBatch();
    ByteBuffer buffer = ByteBuffer.allocate(stream.length).flip();
    List<String> responses = new ArrayList<>();
    int fed = 0;
    while (true) {
      FrameReader.Event event = reader.next(buffer);
      if (event == FrameReader.Event.RESPONSE) {
        BatchedResponse response = BatchedResponse.parse(reader.response());
        assertArrayEquals(HEAD, response.head());
        responses.add(response.exchangeId() + "=" + new String(response.bodyArray(), response.bodyOffset(), response.bodyLength(), StandardCharsets.UTF_8));
      } else if (event == FrameReader.Event.END) {
        return responses;
      } else if (fed == stream.length) {
        responses.add("NEED_MORE");
        return responses;
      } else {
        buffer.compact();
        int n = Math.min(piece, stream.length - fed);
        buffer.put(stream, fed, n);
        fed += n;
        buffer.flip();
      }
    }
  }

  private static byte[] response(String id, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return BatchedResponse.frame(id, HEAD, bytes, bytes.length);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3, 7, 64, 1 << 16})
  void responsesSurviveAnySplitOfTheStream(int piece) throws FrameException {
    byte[] stream = batch(response("first", "hello"), response("second", ""), response("third", "x".repeat(5000)));
    assertEquals(List.of("first=hello", "second=", "third=" + "x".repeat(5000)), read(stream, piece));
  }

  @Test
  void anEmptyBatchIsJustTheEndFrame() throws FrameException {
    assertEquals(List.of(), read(batch(), 1));
  }

  @Test
  void aBatchWithoutItsEndFrameIsNotComplete() throws FrameException {
    byte[] stream = batch(response("only", "body"));
    assertEquals(List.of("only=body", "NEED_MORE"), read(Arrays.copyOf(stream, stream.length - Frames.HEADER_LENGTH), 5));
  }

  @Test
  void streamFramesDoNotBelongInABatchNorResponsesInAStream() {
    assertThrows(FrameException.class, () -> read(batch(Frames.frame(Frames.HEAD, HEAD)), 64));
    assertThrows(FrameException.class, () -> read(batch(Frames.frame(Frames.DATA, HEAD)), 64));
    assertThrows(FrameException.class, () -> read(batch(Frames.abort("no")), 64));
    FrameReader stream = new FrameReader(false);
    assertThrows(FrameException.class, () -> stream.next(ByteBuffer.wrap(response("id", "body"))));
  }

  @Test
  void lengthsInsideAResponseMustFitIt() {
    byte[] payload = Arrays.copyOfRange(response("abc", "body"), Frames.HEADER_LENGTH, response("abc", "body").length);
    byte[] longId = payload.clone();
    longId[0] = (byte) 250;
    assertThrows(FrameException.class, () -> BatchedResponse.parse(longId));
    byte[] longHead = payload.clone();
    longHead[1 + 3] = 0x7F;
    assertThrows(FrameException.class, () -> BatchedResponse.parse(longHead));
    byte[] controlInId = payload.clone();
    controlInId[2] = '\n';
    assertThrows(FrameException.class, () -> BatchedResponse.parse(controlInId));
    assertThrows(FrameException.class, () -> BatchedResponse.parse(new byte[0]));
    assertThrows(FrameException.class, () -> BatchedResponse.parse(new byte[] {0, 0, 0, 0, 0}));
  }

  @Test
  void theWriterRefusesWhatTheReaderWouldRefuse() {
    byte[] body = new byte[Frames.MAX_BATCHED_BODY + 1];
    assertThrows(IllegalArgumentException.class, () -> BatchedResponse.frame("id", HEAD, body, body.length));
    assertThrows(IllegalArgumentException.class, () -> BatchedResponse.frame("", HEAD, body, 0));
    assertThrows(IllegalArgumentException.class, () -> BatchedResponse.frame("x".repeat(256), HEAD, body, 0));
    byte[] largest = BatchedResponse.frame("id", HEAD, new byte[Frames.MAX_BATCHED_BODY], Frames.MAX_BATCHED_BODY);
    assertEquals(Frames.MAX_BATCHED_BODY, BatchedResponse.frame("id", HEAD, largest, Frames.MAX_BATCHED_BODY).length
        - Frames.HEADER_LENGTH - 1 - 2 - 4 - HEAD.length);
  }
}
