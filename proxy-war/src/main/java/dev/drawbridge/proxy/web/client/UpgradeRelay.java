package dev.drawbridge.proxy.web.client;

import dev.drawbridge.protocol.FrameException;
import dev.drawbridge.protocol.FrameReader;
import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.ResponseHead;
import dev.drawbridge.protocol.WireJson;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.exchange.ExchangeRelay;
import dev.drawbridge.proxy.exchange.ExchangeState;
import dev.drawbridge.proxy.http.ClientSentences;
import dev.drawbridge.proxy.http.ResponseHeadRules;
import dev.drawbridge.proxy.web.BufferReads;
import dev.drawbridge.proxy.web.CallGuard;
import dev.drawbridge.proxy.web.Handoff;
import dev.drawbridge.proxy.web.Lane;
import dev.drawbridge.proxy.web.ReadReadiness;
import dev.drawbridge.proxy.web.Responses;
import dev.drawbridge.proxy.web.agent.AgentCallBroken;
import dev.drawbridge.proxy.web.agent.AgentCaller;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.WebConnection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Relays one upgraded connection (a WebSocket) between the client and the agent's two calls:
 * downstream, the agent's response call (the backend's answer head, then the backend's bytes) to
 * the client; upstream, the client's bytes after the switch to the agent's request-body call.
 *
 * <p>Four connections meet here, so every read, write, flush and completion runs in one {@link
 * Lane}; the container callbacks of each connection only record what happened and wake the lane
 * ({@link UpgradeStreams}). One exception: on Undertow the lane hands each read of the client's
 * upgraded input to that connection's I/O thread ({@link UndertowSocket}). Each run of the lane
 * holds the {@link CallGuard} of both agent calls, and of a relayed refusal's client request, so
 * the container never ends one of them under it. Each direction holds
 * at most one buffer of {@value #CHUNK} bytes and reads from its source only once its sink took
 * the previous piece, so a slow reader stalls its writer and memory does not grow with it. A
 * direction with nothing to move gives its buffer back, so a thousand quiet WebSockets cost no
 * buffers at all.
 *
 * <p>The connection ends when either direction ends: an end frame from the agent (the backend
 * closed) completes the exchange once its bytes reached the client; the client closing its side
 * (or the container closing it) sends the agent an end frame and completes the exchange, and the
 * agent then closes the backend connection. Anything else (a broken connection, an abort frame, silence for the idle timeout) ends
 * the exchange as failed, and the end closes whatever is still open, on every leg.
 */
public final class UpgradeRelay implements ExchangeRelay {

  private static final Logger LOG = Logger.getLogger(UpgradeRelay.class.getName());

  /** Bytes per piece, each way: a thousand busy WebSockets then hold at most 32 MiB of buffers. */
  static final int CHUNK = 16 * 1024;

  private final Exchange exchange;
  private final UpgradeClientLeg client;
  private final String viaEntry;
  private final Lane lane;
  private final Lane.Pump pump;
  private final UpgradeStreams streams = new UpgradeStreams(this);
  private final AtomicBoolean answerCallClaimed = new AtomicBoolean();
  private final AtomicBoolean bodyCallClaimed = new AtomicBoolean();
  // Set by the lane when it ends an agent call, or by that call's own thread when it broke.
  private final AtomicBoolean agentAnswered = new AtomicBoolean();
  private final AtomicBoolean agentBodyEnded = new AtomicBoolean();
  private final CallGuard answerCall = new CallGuard();
  private final CallGuard bodyCall = new CallGuard();
  private final ReadReadiness agentReadiness = new ReadReadiness();
  /** The guard of a relayed refusal's client request; null for an upgraded connection. */
  private volatile CallGuard refusalRequest;

  // Published by container threads once their listeners are set, read by the lane.
  private volatile AsyncContext agentAnswer;
  private volatile ServletInputStream agentIn;
  private volatile AsyncContext agentBody;
  private volatile ServletOutputStream agentOut;
  private volatile WebConnection clientConnection;
  private volatile ServletInputStream clientIn;
  private volatile ServletOutputStream clientOut;
  /** Tomcat's lock for the client's connection, held for each read of it ({@link TomcatSocket}); null elsewhere. */
  private volatile Lock clientReadLock;
  /** Undertow's I/O thread of the client's connection, where each read of it runs ({@link UndertowSocket}); null elsewhere. */
  private volatile Executor clientReadThread;
  /** A read handed to {@link #clientReadThread}: {@link #NO_READ}, {@link #READING}, or its answer. */
  private final AtomicInteger handedRead = new AtomicInteger(NO_READ);
  /** Why the handed read failed, when its answer is {@link #READ_FAILED}. */
  private volatile Exception handedReadFailure;
  /** The client's read events counted just before the handed read ran. */
  private volatile long handedReadEvents;
  private volatile ExchangeState ended;

  // The lane's own state.
  /** The guard of a relayed refusal's client request that this run holds; null otherwise. */
  private CallGuard refusalHeld;
  private final FrameReader downFrames = new FrameReader(true);
  /** Bytes from the agent not yet decoded or written; null while the direction is quiet. */
  private ByteBuffer downBuffer;
  private int downOffset;
  private int downLength;
  private boolean downEnd;
  private boolean downFlushNeeded;
  /** A frame for the agent being written; null while the direction is quiet. */
  private byte[] upBuffer;
  private int upPending;
  private boolean upEndWritten;
  private boolean upDone;
  private boolean upFlushNeeded;
  private boolean clientClosed;

  UpgradeRelay(Exchange exchange, UpgradeClientLeg client, String viaEntry, Handoff handoff) {
    this.exchange = exchange;
    this.client = client;
    this.viaEntry = viaEntry;
    this.lane = handoff.lane();
    this.pump = lane.pump(this::run);
  }

  // ---- arrivals, each on its own connection's container thread ---------------------------------

  /** True for the first response call of the agent; any later one is refused. */
  public boolean claimAnswerCall() {
    return answerCallClaimed.compareAndSet(false, true);
  }

  /** True for the first request-body call of the agent; any later one is refused. */
  public boolean claimBodyCall() {
    return bodyCallClaimed.compareAndSet(false, true);
  }

  /** The agent's response call, claimed, arrived. */
  public void agentAnswerCall(AsyncContext async) throws IOException {
    async.setTimeout(0);
    async.addListener(streams.agentAnswerEvents());
    ServletInputStream in = async.getRequest().getInputStream();
    in.setReadListener(agentReadiness.announcing(streams.agentAnswerReads()));
    agentAnswer = async;
    agentIn = in;
    pump.wake();
  }

  /** The agent's request-body call, claimed, arrived. */
  public void agentBodyCall(AsyncContext async) throws IOException {
    async.setTimeout(0);
    async.addListener(streams.agentBodyEvents());
    HttpServletResponse response = (HttpServletResponse) async.getResponse();
    response.setStatus(200);
    response.setContentType(dev.drawbridge.protocol.Protocol.FRAMES_TYPE);
    response.setHeader(dev.drawbridge.protocol.Protocol.PROXY_VERSION_HEADER, dev.drawbridge.protocol.Protocol.SOFTWARE_VERSION);
    // The container's default buffer, not one the size of a frame: this call lives as long as the
    // connection, and large frames bypass the buffer anyway.
    ServletOutputStream out = response.getOutputStream();
    out.setWriteListener(streams.agentBodyWrites());
    agentBody = async;
    agentOut = out;
    pump.wake();
  }

  /** The client's connection switched protocols; called on its thread by the upgrade handler. */
  void clientUpgraded(WebConnection connection) throws IOException {
    ServletInputStream in = connection.getInputStream();
    ServletOutputStream out = connection.getOutputStream();
    clientReadLock = TomcatSocket.processingLock(in);
    clientReadThread = UndertowSocket.ioThread(in);
    in.setReadListener(streams.clientReads());
    out.setWriteListener(streams.clientWrites());
    clientConnection = connection;
    clientIn = in;
    clientOut = out;
    pump.wake();
  }

  /**
   * The handshake was refused: the backend's response goes to {@code out}, in async mode, inside
   * {@code guard}, the guard of the client's request.
   */
  void clientResponding(ServletOutputStream out, CallGuard guard) {
    refusalRequest = guard;
    out.setWriteListener(streams.clientWrites());
    clientOut = out;
    pump.wake();
  }

  /** The container closed the client's upgraded connection (it went away, or we closed it). */
  void clientClosedByContainer() {
    streams.clientClosed();
  }

  /**
   * The agent's response call broke: it is completed here, on its own connection's thread inside
   * the container's error handling, so the lane never ends it while the container is still busy
   * with it (Tomcat then logs the call's async state as broken).
   */
  void agentAnswerCallBroke(AsyncContext async) {
    answerCall.endByContainer(() -> {
      if (async != null && agentAnswered.compareAndSet(false, true)) {
        // 410 reaches an agent whose call the container timed out (it is stopping the proxy).
        AgentCallBroken.complete(async, 410);
      }
    });
  }

  /** The agent's request-body call broke: completed here, as {@link #agentAnswerCallBroke} says. */
  void agentBodyCallBroke(AsyncContext async) {
    bodyCall.endByContainer(() -> {
      if (async != null && agentBodyEnded.compareAndSet(false, true)) {
        AgentCallBroken.complete(async);
      }
    });
  }

  /** The agent's response call, once it arrived; null before. */
  AsyncContext agentAnswerAsync() {
    return agentAnswer;
  }

  /** The agent's request-body call, once it arrived; null before. */
  AsyncContext agentBodyAsync() {
    return agentBody;
  }

  /** Something happened on one of the connections: run the lane. */
  void wake() {
    pump.wake();
  }

  @Override
  public void exchangeEnded(ExchangeState state) {
    ended = state;
    pump.wake();
  }

  // ---- the lane ----------------------------------------------------------------------------------

  /**
   * One run of the lane, inside the guards of both agent calls and of a relayed refusal's client
   * request. Whether a call is still open is asked again before each step on it ({@link
   * #answerCallLive} and the like), since the container may end it during the run.
   */
  private void run() {
    answerCall.enter();
    try {
      bodyCall.enter();
      try {
        // Read once: a refusal's output published during this run is left to the next run, which
        // its publication wakes.
        CallGuard refusal = refusalRequest;
        if (refusal != null) {
          refusal.enter();
        }
        refusalHeld = refusal;
        try {
          runGuarded();
        } finally {
          refusalHeld = null;
          if (refusal != null) {
            refusal.exit();
          }
        }
      } finally {
        bodyCall.exit();
      }
    } finally {
      answerCall.exit();
    }
  }

  /** True while the lane may touch the agent's response call: the container has not ended it. */
  private boolean answerCallLive() {
    return !answerCall.isEnded();
  }

  /** True while the lane may touch the agent's request-body call. */
  private boolean bodyCallLive() {
    return !bodyCall.isEnded();
  }

  /**
   * True while the lane may touch the client's output: an upgraded connection, or a relayed
   * refusal whose request this run holds the guard of and the container has not ended.
   */
  private boolean clientLive() {
    CallGuard refusal = refusalHeld;
    return clientConnection != null || refusal != null && !refusal.isEnded();
  }

  private void runGuarded() {
    if (ended == null) {
      String failure = streams.takeFailure();
      if (failure != null) {
        endFor(failure);
      } else {
        pumpDown();
        if (ended == null) {
          pumpUp();
        }
      }
    }
    if (ended != null) {
      closeEverything();
    }
  }

  /** Ends the exchange for a failure a callback recorded: the client's or the agent's. */
  private void endFor(String failure) {
    if (failure.startsWith(UpgradeStreams.CLIENT)) {
      exchange.clientGone(failure);
    } else {
      exchange.fail(502, "The connection to the agent broke during the upgraded connection.");
      LOG.fine(() -> "exchange " + exchange.id() + ": " + failure);
    }
  }

  private void pumpDown() {
    while (ended == null) {
      if (downLength > 0) {
        if (!clientReady()) {
          return;
        }
        if (!writeToClient()) {
          return;
        }
        continue;
      }
      if (downEnd) {
        if (clientReady() && flushClient() && clientReady()) {
          exchange.complete();
        }
        return;
      }
      if (agentIn == null || !answerCallLive()) {
        return;
      }
      FrameReader.Event event;
      try {
        event = downBuffer == null ? FrameReader.Event.NEED_MORE : downFrames.next(downBuffer);
      } catch (FrameException e) {
        answerAgent(400, "Malformed upgraded stream: " + e.getMessage());
        exchange.fail(502, "The agent sent a malformed response.");
        return;
      }
      switch (event) {
        case HEAD:
          if (!applyHead()) {
            return;
          }
          break;
        case DATA:
          downOffset = downFrames.dataOffset();
          downLength = downFrames.dataLength();
          break;
        case END:
          downEnd = true;
          break;
        case ABORT:
          answerAgent(204, null);
          exchange.fail(502, "The backend's side of the connection broke off.");
          LOG.fine(() -> "exchange " + exchange.id() + ": agent aborted: " + downFrames.abortReason());
          return;
        default:
          if (!readFromAgent()) {
            return;
          }
      }
    }
  }

  /** True when the client's side exists and can take bytes now (else its listener calls back). */
  private boolean clientReady() {
    ServletOutputStream out = clientOut;
    if (out == null || !clientLive()) {
      return false;
    }
    try {
      return out.isReady();
    } catch (IllegalStateException e) {
      exchange.clientGone("The client's connection ended: " + e);
      return false;
    }
  }

  private boolean writeToClient() {
    try {
      if (clientConnection != null) {
        // An exact copy for an upgraded connection: Undertow's (WildFly's) upgraded output, in
        // non-blocking mode, writes the whole array it is given, whatever the offset and length.
        clientOut.write(java.util.Arrays.copyOfRange(downBuffer.array(), downOffset, downOffset + downLength));
      } else {
        clientOut.write(downBuffer.array(), downOffset, downLength);
      }
    } catch (IOException | IllegalStateException e) {
      exchange.clientGone("The client's connection broke: " + e);
      return false;
    }
    exchange.addBytesToClient(downLength);
    exchange.touch();
    downLength = 0;
    downFlushNeeded = true;
    return true;
  }

  private boolean flushClient() {
    if (!downFlushNeeded || !clientLive()) {
      return true;
    }
    downFlushNeeded = false;
    try {
      clientOut.flush();
      return true;
    } catch (IOException | IllegalStateException e) {
      exchange.clientGone("The client's connection broke: " + e);
      return false;
    }
  }

  /** Reads more of the agent's stream; false when nothing is available now (or it failed). */
  private boolean readFromAgent() {
    // The client's output may still hold the buffer's array until its last write completed.
    if (clientOut != null && !clientReady()) {
      return false;
    }
    try {
      if (agentIn.isFinished()) {
        agentStreamCut();
        return false;
      }
      if (!agentReadiness.isReady(agentIn)) {
        if (downFlushNeeded && clientOut != null) {
          flushClient();
        }
        if (downBuffer != null && !downBuffer.hasRemaining()) {
          // Quiet: nothing half-read, nothing the client's output still holds.
          downBuffer = null;
        }
        return false;
      }
      if (downBuffer == null) {
        downBuffer = ByteBuffer.allocate(CHUNK).flip();
      }
      int n = BufferReads.readInto(agentIn, downBuffer);
      if (n < 0) {
        agentStreamCut();
        return false;
      }
      return true;
    } catch (IOException | IllegalStateException e) {
      agentBroke(e);
      return false;
    }
  }

  /** Ends the exchange for an agent call that failed under the lane's hands. */
  private void agentBroke(Exception e) {
    exchange.fail(502, "The connection to the agent broke during the upgraded connection.");
    LOG.log(Level.FINE, "exchange " + exchange.id() + ": an agent call failed", e);
  }

  private void agentStreamCut() {
    answerAgent(400, "The upgraded stream ended without an end frame.");
    exchange.fail(502, "The agent's side of the connection ended before it was complete.");
  }

  /** Checks the backend's answer and hands it to the client's waiting thread. */
  private boolean applyHead() {
    ResponseHead head;
    try {
      head = WireJson.readResponseHead(downFrames.head());
    } catch (FrameException e) {
      answerAgent(400, "Malformed response head: " + e.getMessage());
      exchange.fail(502, "The agent sent a malformed response head.");
      return false;
    }
    if (head.failure() != null) {
      answerAgent(204, null);
      // The client gets the proxy's own sentence; the agent's account is for the operator.
      String report = head.message() == null || head.message().isBlank()
          ? "The agent could not get a response from the backend (" + head.failure() + ")."
          : "The agent reports " + head.failure() + ": " + AgentCaller.sanitize(head.message(), 200);
      exchange.fail(head.failure().status(), ClientSentences.of(head.failure()).sentence(exchange.id()), report);
      return false;
    }
    ResponseHeadRules.Verdict verdict = ResponseHeadRules.judgeUpgrade(head, viaEntry, exchange.head().upgrade());
    if (!verdict.accepted()) {
      answerAgent(400, "Response head refused: it had " + verdict.error() + ".");
      exchange.fail(502, "The backend's response was refused: it had " + verdict.error() + ".");
      return false;
    }
    if (!exchange.startResponse(verdict.status())) {
      answerAgent(exchange.state().isTerminal() ? 410 : 409, "This exchange already ended or was answered.");
      return false;
    }
    if (!client.decide(HandshakeAnswer.backend(verdict))) {
      // The waiting thread gave up first and ended the exchange; the end closes the rest.
      return false;
    }
    return true;
  }

  private void pumpUp() {
    while (ended == null && !upDone) {
      ServletOutputStream out = agentOut;
      ServletInputStream in = clientIn;
      if (out == null && in != null && streams.clientInputEnded()) {
        // The client left before the agent asked for its side: nothing to tell it but the end.
        exchange.complete();
        return;
      }
      if (out == null || in == null || !bodyCallLive()) {
        return;
      }
      try {
        if (!out.isReady()) {
          return;
        }
        if (upPending > 0) {
          out.write(upBuffer, 0, upPending);
          upPending = 0;
          upFlushNeeded = true;
          exchange.touch();
          continue;
        }
        if (upEndWritten) {
          out.flush();
          upDone = true;
          endAgentBody();
          // The client closed its side: the connection is over (the agent closes the backend's).
          exchange.complete();
          return;
        }
      } catch (IOException | IllegalStateException e) {
        agentBroke(e);
        return;
      }
      int n;
      try {
        n = nextClientRead(in);
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
            out.flush();
          }
        } catch (IOException | IllegalStateException e) {
          agentBroke(e);
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

  /** {@link #readFromClient}'s answer when the client has sent nothing more yet. */
  private static final int NOTHING_YET = Integer.MIN_VALUE;
  /** {@link #nextClientRead}'s answer while the container's thread reads. */
  private static final int READING = Integer.MIN_VALUE + 1;
  /** No read handed over, or its answer taken. */
  private static final int NO_READ = Integer.MIN_VALUE + 2;
  /** The handed read failed with {@link #handedReadFailure}. */
  private static final int READ_FAILED = Integer.MIN_VALUE + 3;

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
      upBuffer = new byte[Frames.HEADER_LENGTH + CHUNK];
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
        pump.wake();
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
        upBuffer = new byte[Frames.HEADER_LENGTH + CHUNK];
      }
      int n = in.read(upBuffer, Frames.HEADER_LENGTH, CHUNK);
      return n;
    } finally {
      if (lock != null) {
        lock.unlock();
      }
    }
  }

  // ---- the end -----------------------------------------------------------------------------------

  /** Closes each leg still open, once; runs again if a leg arrives after the end. */
  private void closeEverything() {
    ExchangeState state = ended;
    if (!agentAnswered.get() && agentAnswer != null) {
      if (state == ExchangeState.COMPLETED) {
        answerAgent(204, null);
      } else {
        answerAgent(410, "This exchange ended (" + state + ").");
      }
    }
    endAgentBody();
    WebConnection connection = clientConnection;
    if (!clientClosed && connection != null && handedRead.get() != READING) {
      // (A read still on the container's thread wakes the lane when done; the close comes then.)
      clientClosed = true;
      if (downFlushNeeded) {
        flushQuietly(clientOut);
      }
      UpgradedClose.close(connection, clientOut);
    }
  }

  /** Ends the agent's request-body call; without an end frame first the agent sees a cut stream. */
  private void endAgentBody() {
    AsyncContext async = agentBody;
    if (async == null || !bodyCallLive() || !agentBodyEnded.compareAndSet(false, true)) {
      return;
    }
    try {
      async.complete();
    } catch (IllegalStateException e) {
      // The container already ended the agent's call.
    }
  }

  /** Answers the agent's response call once. */
  private void answerAgent(int status, String message) {
    AsyncContext async = agentAnswer;
    if (async == null || !answerCallLive() || !agentAnswered.compareAndSet(false, true)) {
      return;
    }
    try {
      HttpServletResponse response = (HttpServletResponse) async.getResponse();
      if (message == null) {
        response.setStatus(status);
      } else {
        Responses.agentText(response, status, message);
      }
      async.complete();
    } catch (IOException | IllegalStateException e) {
      LOG.log(Level.FINE, "Could not answer the agent's response call", e);
    }
  }

  private static void flushQuietly(ServletOutputStream out) {
    try {
      if (out != null && out.isReady()) {
        out.flush();
      }
    } catch (IOException | IllegalStateException e) {
      // Closing anyway.
    }
  }

  Exchange exchange() {
    return exchange;
  }

  /** The lane all of this connection's I/O runs in; a relayed refusal's client leg answers in it too. */
  Lane lane() {
    return lane;
  }

  /** The relay of an upgrade exchange, which its client leg knows. */
  public static UpgradeRelay of(Exchange exchange) {
    return ((UpgradeClientLeg) exchange.client()).relay();
  }
}
