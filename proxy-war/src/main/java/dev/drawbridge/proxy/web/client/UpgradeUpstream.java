package dev.drawbridge.proxy.web.client;

import dev.drawbridge.protocol.Frames;
import dev.drawbridge.proxy.exchange.Exchange;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import java.io.IOException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;

/**
 * The upstream direction of an {@link UpgradeRelay}: the client's bytes after the switch, framed
 * onto the agent's request-body call. Runs only in the relay's lane. It holds at most one buffer of
 * {@value UpgradeRelay#CHUNK} bytes and reads from the client only once the agent's call took the
 * previous frame; while the client is quiet it holds none.
 *
 * <p>How the client's input is read depends on the container: on Tomcat each read holds the
 * connection's processing lock ({@link TomcatSocket}); on Undertow each read is handed to the
 * connection's I/O thread ({@link UndertowSocket}), which wakes the lane with its answer;
 * elsewhere the lane reads itself.
 */
final class UpgradeUpstream {

  private static final byte[] KEEPALIVE = Frames.keepalive();

  /** {@link #readFromClient}'s answer when the client has sent nothing more yet. */
  private static final int NOTHING_YET = Integer.MIN_VALUE;
  /** {@link #nextClientRead}'s answer while the container's thread reads. */
  private static final int READING = Integer.MIN_VALUE + 1;
  /** No read handed over, or its answer taken. */
  private static final int NO_READ = Integer.MIN_VALUE + 2;
  /** The handed read failed with {@link #handedReadFailure}. */
  private static final int READ_FAILED = Integer.MIN_VALUE + 3;

  private final UpgradeRelay relay;
  private final Exchange exchange;
  private final UpgradeStreams streams;
  /** Runs the lane again. */
  private final Runnable wake;

  /** Tomcat's lock for the client's connection, held for each read of it; null elsewhere. */
  private volatile Lock clientReadLock;
  /** Undertow's I/O thread of the client's connection, where each read of it runs; null elsewhere. */
  private volatile Executor clientReadThread;
  /** A read handed to {@link #clientReadThread}: {@link #NO_READ}, {@link #READING}, or its answer. */
  private final AtomicInteger handedRead = new AtomicInteger(NO_READ);
  /** Why the handed read failed, when its answer is {@link #READ_FAILED}. */
  private volatile Exception handedReadFailure;
  /** The client's read events counted just before the handed read ran. */
  private volatile long handedReadEvents;
  /** True when the agent's request-body call said it reads keepalive frames. */
  private volatile boolean agentReadsKeepalives;
  /** Set by the reaper every keepalive interval; the lane sends a keepalive frame and clears it. */
  private volatile boolean keepaliveDue;
  /** True when a frame went to the agent since the last keepalive was due; the lane's own. */
  private boolean carriedSinceKeepalive;

  // The lane's own state.
  /** A frame for the agent being written; null while the direction is quiet. */
  private byte[] upBuffer;
  private int upPending;
  private boolean upEndWritten;
  private boolean upDone;
  private boolean upFlushNeeded;

  UpgradeUpstream(UpgradeRelay relay, Exchange exchange, UpgradeStreams streams, Runnable wake) {
    this.relay = relay;
    this.exchange = exchange;
    this.streams = streams;
    this.wake = wake;
  }

  /** Learns how to read the client's upgraded input; called before the input is published. */
  void clientUpgraded(ServletInputStream clientIn) {
    clientReadLock = TomcatSocket.processingLock(clientIn);
    clientReadThread = UndertowSocket.ioThread(clientIn);
  }

  /** The agent's request-body call declared that it reads keepalive frames. */
  void agentReadsKeepalives() {
    agentReadsKeepalives = true;
  }

  /**
   * A keepalive interval passed: the lane sends the agent a keepalive frame, so that a client quiet
   * for long does not leave the agent's call silent until something on the way cuts it.
   */
  void keepaliveDue() {
    if (agentReadsKeepalives) {
      keepaliveDue = true;
      wake.run();
    }
  }

  /** True while a read runs on the container's thread; it wakes the lane when done. */
  boolean reading() {
    return handedRead.get() == READING;
  }

  /**
   * Moves what the client sent to the agent's request-body call {@code agentOut} until either side
   * cannot go on now; both are null until they arrived.
   */
  void pump(ServletOutputStream agentOut, ServletInputStream clientIn) {
    while (relay.isOpen() && !upDone) {
      if (agentOut == null && clientIn != null && streams.clientInputEnded()) {
        // The client left before the agent asked for its side: nothing to tell it but the end.
        exchange.complete();
        return;
      }
      if (agentOut == null || clientIn == null || !relay.bodyCallLive()) {
        return;
      }
      try {
        if (!agentOut.isReady()) {
          return;
        }
        if (upPending > 0) {
          agentOut.write(upBuffer, 0, upPending);
          carriedSinceKeepalive = true;
          upPending = 0;
          upFlushNeeded = true;
          exchange.touch();
          continue;
        }
        if (upEndWritten) {
          agentOut.flush();
          upDone = true;
          relay.endAgentBody();
          // The client closed its side: the connection is over (the agent closes the backend's).
          exchange.complete();
          return;
        }
        if (keepaliveDue) {
          keepaliveDue = false;
          if (carriedSinceKeepalive) {
            // The call carried the client's bytes in this interval: it is not silent.
            carriedSinceKeepalive = false;
            continue;
          }
          agentOut.write(KEEPALIVE);
          if (agentOut.isReady()) {
            agentOut.flush();
          } else {
            upFlushNeeded = true;
          }
          continue;
        }
      } catch (IOException | IllegalStateException e) {
        relay.agentBroke(e);
        return;
      }
      int n;
      try {
        n = nextClientRead(clientIn);
      } catch (IOException | IllegalStateException e) {
        exchange.clientGone("The client's connection broke: " + e);
        return;
      }
      if (n == READING) {
        // The container's thread reads into the buffer now and wakes the lane with the answer.
        return;
      }
      if (n == NOTHING_YET) {
        try {
          if (upFlushNeeded) {
            upFlushNeeded = false;
            agentOut.flush();
          }
        } catch (IOException | IllegalStateException e) {
          relay.agentBroke(e);
          return;
        }
        // Quiet, and the agent's output took the last frame (it was ready): let the buffer go.
        upBuffer = null;
        return;
      }
      if (n < 0) {
        if (upBuffer == null) {
          upBuffer = new byte[Frames.HEADER_LENGTH];
        }
        Frames.putHeader(upBuffer, 0, Frames.END, 0);
        upPending = Frames.HEADER_LENGTH;
        upEndWritten = true;
      } else if (n > 0) {
        exchange.addBytesFromClient(n);
        Frames.putHeader(upBuffer, 0, Frames.DATA, n);
        upPending = Frames.HEADER_LENGTH + n;
      }
    }
  }

  /**
   * The client's next bytes as {@link #readFromClient} answers, or {@link #READING}. On Undertow
   * the read runs on the connection's I/O thread, which wakes the lane once it has the answer;
   * elsewhere it runs here.
   */
  private int nextClientRead(ServletInputStream in) throws IOException {
    Executor thread = clientReadThread;
    if (thread == null) {
      return readFromClient(in);
    }
    int answer = handedRead.get();
    if (answer == READING) {
      return READING;
    }
    if (answer != NO_READ) {
      handedRead.set(NO_READ);
      if (answer == READ_FAILED) {
        Exception failure = handedReadFailure;
        throw failure instanceof IOException io ? io : new IOException(failure.toString(), failure);
      }
      if (answer != NOTHING_YET || streams.clientReadEvents() == handedReadEvents) {
        return answer;
      }
      // The container announced more after that read found nothing, and its wake-up may have
      // been folded into this run: read again rather than wait for an event that already came.
    }
    if (upBuffer == null) {
      upBuffer = new byte[Frames.HEADER_LENGTH + UpgradeRelay.CHUNK];
    }
    handedRead.set(READING);
    try {
      thread.execute(() -> {
        // The read events come on this same thread: any counted later came after this read.
        handedReadEvents = streams.clientReadEvents();
        int read;
        try {
          read = readFromClient(in);
        } catch (IOException | RuntimeException e) {
          handedReadFailure = e;
          read = READ_FAILED;
        }
        handedRead.set(read);
        wake.run();
      });
    } catch (RuntimeException e) {
      // The container stopped its threads: the connection is ending.
      handedRead.set(NO_READ);
      throw new IOException("the connection's I/O thread took no more work", e);
    }
    return READING;
  }

  /**
   * Reads the client's next bytes into the frame buffer: their count, -1 at the end of its input,
   * or {@link #NOTHING_YET}. On Tomcat each read holds the connection's processing lock, which
   * keeps the container's read event from filling the same socket buffer meanwhile.
   */
  private int readFromClient(ServletInputStream in) throws IOException {
    Lock lock = clientReadLock;
    if (lock != null) {
      lock.lock();
    }
    try {
      if (streams.clientInputEnded() || in.isFinished()) {
        return -1;
      }
      if (!in.isReady()) {
        return NOTHING_YET;
      }
      if (upBuffer == null) {
        upBuffer = new byte[Frames.HEADER_LENGTH + UpgradeRelay.CHUNK];
      }
      return in.read(upBuffer, Frames.HEADER_LENGTH, UpgradeRelay.CHUNK);
    } finally {
      if (lock != null) {
        lock.unlock();
      }
    }
  }
}
