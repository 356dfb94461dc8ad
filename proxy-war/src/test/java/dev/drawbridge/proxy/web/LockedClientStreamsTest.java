package dev.drawbridge.proxy.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class LockedClientStreamsTest {

  private final ReentrantLock connectionLock = new ReentrantLock();
  /** Each call the container's stream saw, and whether the connection's lock was held then. */
  private final List<String> calls = new ArrayList<>();

  private void saw(String call) {
    calls.add(call + (connectionLock.isHeldByCurrentThread() ? " locked" : " unlocked"));
  }

  @Test
  void everyCallOnTheClientsInputHoldsTheConnectionsLock() throws Exception {
    ServletInputStream in = LockedClientStreams.input(new RecordingInput(), connectionLock);

    assertTrue(in.isReady());
    assertFalse(in.isFinished());
    assertEquals(3, in.read(new byte[8], 0, 8));
    assertEquals('x', in.read());
    in.close();

    assertEquals(List.of("isReady locked", "isFinished locked", "read locked", "read locked", "close locked"), calls);
    assertFalse(connectionLock.isLocked(), "released after each call");
  }

  @Test
  void everyCallOnTheClientsOutputHoldsTheConnectionsLock() throws Exception {
    ServletOutputStream out = LockedClientStreams.output(new RecordingOutput(), connectionLock);

    assertTrue(out.isReady());
    out.write(new byte[4], 0, 4);
    out.write('x');
    out.flush();
    out.close();

    assertEquals(List.of("isReady locked", "write locked", "write locked", "flush locked", "close locked"), calls);
    assertFalse(connectionLock.isLocked(), "released after each call");
  }

  @Test
  void withoutALockTheContainersStreamsAreUsedAsTheyAre() {
    ServletInputStream in = new RecordingInput();
    ServletOutputStream out = new RecordingOutput();

    assertSame(in, LockedClientStreams.input(in, null));
    assertSame(out, LockedClientStreams.output(out, null));
  }

  @Test
  void streamsOfOtherContainersHaveNoTomcatLock() {
    assertNull(TomcatSockets.connectionLock(new RecordingOutput()));
    assertNull(TomcatSockets.socketWrapper(new RecordingInput()));
  }

  private final class RecordingInput extends ServletInputStream {
    @Override
    public boolean isFinished() {
      saw("isFinished");
      return false;
    }

    @Override
    public boolean isReady() {
      saw("isReady");
      return true;
    }

    @Override
    public void setReadListener(ReadListener listener) {
      saw("setReadListener");
    }

    @Override
    public int read() {
      saw("read");
      return 'x';
    }

    @Override
    public int read(byte[] b, int off, int len) {
      saw("read");
      return 3;
    }

    @Override
    public void close() {
      saw("close");
    }
  }

  private final class RecordingOutput extends ServletOutputStream {
    @Override
    public boolean isReady() {
      saw("isReady");
      return true;
    }

    @Override
    public void setWriteListener(WriteListener listener) {
      saw("setWriteListener");
    }

    @Override
    public void write(int b) {
      saw("write");
    }

    @Override
    public void write(byte[] b, int off, int len) {
      saw("write");
    }

    @Override
    public void flush() {
      saw("flush");
    }

    @Override
    public void close() {
      saw("close");
    }
  }
}
