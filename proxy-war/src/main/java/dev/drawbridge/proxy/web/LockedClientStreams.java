package dev.drawbridge.proxy.web;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.IOException;
import java.util.concurrent.locks.Lock;

/**
 * A client's upgraded streams that take the container's lock of that connection around every call,
 * so that a relay's lane uses them as one of the container's own threads would.
 *
 * <p>Why Tomcat (10.1 and 11) needs it: on every read event of an upgraded connection its {@code
 * UpgradeServletInputStream.onDataAvailable} fills the connection's read buffer before it calls the
 * listener, and after each such call Tomcat asks for the next read event, whether the listener read
 * anything or not. While the client sends faster than the agent takes (the lane waits for the
 * agent's call to be ready), Tomcat's threads therefore keep filling the very buffer the lane reads
 * from, with no lock between them: bytes were repeated or lost (the backend saw broken WebSocket
 * frames) and the buffer's positions broke ({@code BufferOverflowException} in Tomcat's log). Tomcat
 * runs each event of a connection under its socket wrapper's lock ({@link TomcatSockets}); holding
 * it here keeps Tomcat's reads and the lane's apart. Jetty and Undertow call the listener only
 * after {@code isReady()} returned false and read nothing themselves meanwhile; they get the streams
 * unwrapped.
 *
 * <p>The lane holds the lock only for one call on the client's stream, never while it touches an
 * agent's call, so the hand-off rule's lock order holds (see {@link Handoff}).
 */
final class LockedClientStreams {

  private LockedClientStreams() {}

  /** {@code in} guarded by {@code lock}, or {@code in} itself when there is no lock. */
  static ServletInputStream input(ServletInputStream in, Lock lock) {
    return lock == null ? in : new Input(in, lock);
  }

  /** {@code out} guarded by {@code lock}, or {@code out} itself when there is no lock. */
  static ServletOutputStream output(ServletOutputStream out, Lock lock) {
    return lock == null ? out : new Output(out, lock);
  }

  private static final class Input extends ServletInputStream {
    private final ServletInputStream in;
    private final Lock lock;

    Input(ServletInputStream in, Lock lock) {
      this.in = in;
      this.lock = lock;
    }

    @Override
    public boolean isFinished() {
      lock.lock();
      try {
        return in.isFinished();
      } finally {
        lock.unlock();
      }
    }

    @Override
    public boolean isReady() {
      lock.lock();
      try {
        return in.isReady();
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void setReadListener(ReadListener listener) {
      lock.lock();
      try {
        in.setReadListener(listener);
      } finally {
        lock.unlock();
      }
    }

    @Override
    public int read() throws IOException {
      lock.lock();
      try {
        return in.read();
      } finally {
        lock.unlock();
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      lock.lock();
      try {
        return in.read(b, off, len);
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void close() throws IOException {
      lock.lock();
      try {
        in.close();
      } finally {
        lock.unlock();
      }
    }
  }

  private static final class Output extends ServletOutputStream {
    private final ServletOutputStream out;
    private final Lock lock;

    Output(ServletOutputStream out, Lock lock) {
      this.out = out;
      this.lock = lock;
    }

    @Override
    public boolean isReady() {
      lock.lock();
      try {
        return out.isReady();
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void setWriteListener(WriteListener listener) {
      lock.lock();
      try {
        out.setWriteListener(listener);
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void write(int b) throws IOException {
      lock.lock();
      try {
        out.write(b);
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      lock.lock();
      try {
        out.write(b, off, len);
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void flush() throws IOException {
      lock.lock();
      try {
        out.flush();
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void close() throws IOException {
      lock.lock();
      try {
        out.close();
      } finally {
        lock.unlock();
      }
    }
  }
}
