package dev.drawbridge.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class FrameReaderTest {

  /** Decodes {@code stream} fed in pieces of {@code piece} bytes into a readable event list. */
  private static List<String> decode(byte[] stream, int piece, boolean headExpected) throws FrameException {
    FrameReader reader = new FrameReader(headExpected);
    List<String> events = new ArrayList<>();
    ByteBuffer buffer = ByteBuffer.allocate(stream.length + 16).flip();
    int fed = 0;
    while (true) {
      FrameReader.Event event = reader.next(buffer);
      switch (event) {
        case HEAD:
          events.add("H:" + new String(reader.head(), StandardCharsets.UTF_8));
          break;
        case DATA:
          events.add("D:" + new String(buffer.array(), reader.dataOffset(), reader.dataLength(), StandardCharsets.UTF_8));
          break;
        case END:
          events.add("E");
          return merge(events);
        case ABORT:
          events.add("A:" + reader.abortReason());
          return merge(events);
        default:
          if (fed == stream.length) {
            events.add("NEED_MORE");
            return merge(events);
          }
          buffer.compact();
          int n = Math.min(piece, stream.length - fed);
          buffer.put(stream, fed, n);
          fed += n;
          buffer.flip();
      }
    }
  }

  /** Joins consecutive data events, which splitting the input may cut differently. */
  private static List<String> merge(List<String> events) {
    List<String> merged = new ArrayList<>();
    for (String event : events) {
      int last = merged.size() - 1;
      if (event.startsWith("D:") && last >= 0 && merged.get(last).startsWith("D:")) {
        merged.set(last, merged.get(last) + event.substring(2));
      } else {
        merged.add(event);
      }
    }
    return merged;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static byte[] frame(char type, String payload) {
    return Frames.frame((byte) type, payload.getBytes(StandardCharsets.UTF_8));
  }

  static Stream<Arguments> validStreams() {
    return Stream.of(
        Arguments.of("head and end", true, concat(frame('H', "{}"), Frames.end()), List.of("H:{}", "E")),
        Arguments.of("head, data, end", true, concat(frame('H', "{\"status\":200}"), frame('D', "hello "), frame('D', "world"), Frames.end()), List.of("H:{\"status\":200}", "D:hello world", "E")),
        Arguments.of("body only", false, concat(frame('D', "abc"), Frames.end()), List.of("D:abc", "E")),
        Arguments.of("empty body", false, Frames.end(), List.of("E")),
        Arguments.of("aborted body", false, concat(frame('D', "abc"), Frames.abort("backend reset")), List.of("D:abc", "A:backend reset")),
        Arguments.of("keepalives anywhere in a response", true,
            concat(Frames.keepalive(), frame('H', "{}"), Frames.keepalive(), Frames.keepalive(), frame('D', "ab"),
                Frames.keepalive(), frame('D', "c"), Frames.keepalive(), Frames.end()),
            List.of("H:{}", "D:abc", "E")),
        Arguments.of("keepalives only, then the end", false, concat(Frames.keepalive(), Frames.keepalive(), Frames.end()), List.of("E")),
        Arguments.of("keepalives and no end yet", false, concat(frame('D', "x"), Frames.keepalive()), List.of("D:x", "NEED_MORE")),
        Arguments.of("cut short", false, frame('D', "abc"), List.of("D:abc", "NEED_MORE")));
  }

  @ParameterizedTest(name = "{0}, fed {1}")
  @MethodSource("validStreams")
  void decodesWhateverTheReadSizes(String name, boolean headExpected, byte[] stream, List<String> expected) throws FrameException {
    for (int piece : new int[] {1, 2, 3, 5, 7, 64, 4096}) {
      assertEquals(expected, decode(stream, piece, headExpected), "pieces of " + piece);
    }
  }

  static Stream<Arguments> invalidStreams() {
    byte[] oversized = new byte[Frames.HEADER_LENGTH];
    Frames.putHeader(oversized, 0, Frames.DATA, Frames.MAX_PAYLOAD);
    oversized[1] = 0x7F;
    return Stream.of(
        Arguments.of("unknown type", false, frame('X', "abc"), "unknown frame type"),
        Arguments.of("missing head", true, concat(frame('D', "abc"), Frames.end()), "does not start with a head"),
        Arguments.of("second head", true, concat(frame('H', "{}"), frame('H', "{}")), "unexpected head"),
        Arguments.of("head in a body", false, frame('H', "{}"), "unexpected head"),
        Arguments.of("empty data frame", false, frame('D', ""), "empty data frame"),
        Arguments.of("oversized frame", false, oversized, "exceeds the limit"),
        Arguments.of("end with payload", false, frame('E', "x"), "exceeds the limit"),
        Arguments.of("keepalive with payload", false, frame('K', "x"), "exceeds the limit"),
        Arguments.of("keepalive after the end", false, concat(Frames.end(), Frames.keepalive()), "after the end"),
        Arguments.of("bytes after end", false, concat(Frames.end(), frame('D', "x")), "after the end"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidStreams")
  void refusesBrokenStreams(String name, boolean headExpected, byte[] stream, String message) {
    FrameException e = assertThrows(FrameException.class, () -> decodeAll(stream, headExpected));
    assertEquals(true, e.getMessage().contains(message), e.getMessage());
  }

  private static void decodeAll(byte[] stream, boolean headExpected) throws FrameException {
    FrameReader reader = new FrameReader(headExpected);
    ByteBuffer buffer = ByteBuffer.wrap(stream);
    for (int i = 0; i < 100; i++) {
      reader.next(buffer);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 100, 70_000, 3 * 1024 * 1024})
  void framedStreamsRoundTripAnySize(int size) throws IOException {
    byte[] body = new byte[size];
    for (int i = 0; i < size; i++) {
      body[i] = (byte) (i * 31 + 7);
    }
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    FramedOutputStream out = new FramedOutputStream(wire);
    out.write(body, 0, size);
    out.finish();
    try (FramedInputStream in = new FramedInputStream(new ByteArrayInputStream(wire.toByteArray()), 8192)) {
      assertArrayEquals(body, in.readAllBytes());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"abort", "cut"})
  void framedInputNeverMistakesAnIncompleteBodyForAWholeOne(String ending) throws IOException {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    FramedOutputStream out = new FramedOutputStream(wire);
    out.write("partial".getBytes(StandardCharsets.UTF_8));
    if (ending.equals("abort")) {
      out.abort("client went away");
    }
    FramedInputStream in = new FramedInputStream(new ByteArrayInputStream(wire.toByteArray()), 8192);
    IOException e = assertThrows(IOException.class, in::readAllBytes);
    if (ending.equals("cut")) {
      assertEquals(EOFException.class, e.getClass());
    } else {
      assertEquals(true, e.getMessage().contains("client went away"));
    }
  }

  @Test
  void closingAFramedInputReadsTheRestInWholeBuffersBeforeClosingWhatItWraps() throws IOException {
    byte[] body = new byte[200_000];
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    FramedOutputStream out = new FramedOutputStream(wire);
    out.write(body);
    out.finish();
    List<Integer> reads = new ArrayList<>();
    List<String> closedAt = new ArrayList<>();
    InputStream recorded = new ByteArrayInputStream(wire.toByteArray()) {
      @Override
      public synchronized int read(byte[] target, int offset, int length) {
        reads.add(length);
        return super.read(target, offset, length);
      }

      @Override
      public void close() {
        closedAt.add(available() == 0 ? "at its end" : available() + " bytes before its end");
      }
    };
    FramedInputStream in = new FramedInputStream(recorded, 65_536);
    assertEquals(1, in.read(new byte[1]));

    in.close();

    assertEquals(List.of("at its end"), closedAt);
    assertEquals(List.of(65_536), reads.stream().distinct().toList());
    assertEquals(-1, in.read(new byte[1]));
  }
}
