package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.protocol.FrameException;
import dev.drawbridge.protocol.FrameReader;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.exchange.ExchangeRelay;
import dev.drawbridge.proxy.exchange.ExchangeState;
import dev.drawbridge.proxy.http.ClientSentences.Kind;
import dev.drawbridge.proxy.http.ResponseLength;
import dev.drawbridge.proxy.web.BufferReads;
import dev.drawbridge.proxy.web.CallGuard;
import dev.drawbridge.proxy.web.Lane;
import dev.drawbridge.proxy.web.ReadReadiness;
import dev.drawbridge.proxy.web.Responses;
import dev.drawbridge.proxy.web.client.ServletClientLeg;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Pipes an agent's framed response to the waiting client without blocking: head frame first (checked
 * by {@link ResponseStart} before anything reaches the client), then body bytes as they arrive,
 * flushed whenever the agent pauses so event streams stay live. Reads from the agent only when the
 * client can take more, so a slow client slows the agent instead of filling memory.
 *
 * <p>The relay touches two connections, so all its stream I/O runs in the client's {@link Lane};
 * the listeners of both streams only wake it (see {@link dev.drawbridge.proxy.web.Handoff}). The
 * lane works on the agent's call only inside its {@link CallGuard}, and on the client's request
 * only inside the client's as well.
 */
final class ResponseRelay implements ExchangeRelay {

  private static final Logger LOG = Logger.getLogger(ResponseRelay.class.getName());
  private static final int BUFFER = 64 * 1024;

  private final Exchange exchange;
  private final ServletClientLeg client;
  private final AsyncContext agentAsync;
  private final ServletInputStream agentIn;
  private final String via;
  private final FrameReader frames = new FrameReader(true);
  private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER).flip();
  private final AtomicBoolean agentAnswered = new AtomicBoolean();
  /** Set by whoever completes the agent's call: the lane's answer, or the container's error callback. */
  private final AtomicBoolean agentCallCompleted = new AtomicBoolean();
  private final CallGuard agentCall = new CallGuard();
  private final ReadReadiness agentReadiness = new ReadReadiness();
  private final Lane.Pump pump;
  /** The body length the client was promised, once the head is applied. */
  private ResponseLength length;
  /** The thread running the pump, which answers the agent itself when it ends the exchange. */
  private volatile Thread pumping;
  private ServletOutputStream clientOut;
  private int pendingOffset;
  private int pendingLength;
  private boolean endReached;
  private boolean flushNeeded;

  private ResponseRelay(
      Exchange exchange, ServletClientLeg client, AsyncContext agentAsync, ServletInputStream agentIn, String via) {
    this.exchange = exchange;
    this.client = client;
    this.agentAsync = agentAsync;
    this.agentIn = agentIn;
    this.via = via;
    this.pump = client.lane().pump(this::pumpGuarded);
  }

  static void start(Exchange exchange, ServletClientLeg client, AsyncContext agentAsync, String via)
      throws IOException {
    agentAsync.setTimeout(0);
    ResponseRelay relay =
        new ResponseRelay(exchange, client, agentAsync, agentAsync.getRequest().getInputStream(), via);
    if (!exchange.attach(relay)) {
      relay.answerAgent(410, "This exchange already ended; its client is gone or it timed out.");
      return;
    }
    // The agent's own connection, on its own request thread: the container calls back later.
    agentAsync.addListener(new AgentCallBroken(relay::agentCallBroke));
    relay.agentIn.setReadListener(relay.agentReadiness.announcing(relay.new AgentSide()));
  }

  private void pumpGuarded() {
    pumping = Thread.currentThread();
    try {
      if (agentCall.enter()) {
        pumpInClientGuard();
      }
    } catch (IOException | IllegalStateException e) {
      // The cause goes to the access log and the admin page, not to the client.
      exchange.fail(502, "The connection to the agent broke during the response.",
          "The connection to the agent broke during the response: " + e);
      answerAgent(400, "The response stream broke: " + e.getMessage());
    } finally {
      agentCall.exit();
      pumping = null;
      if (exchange.state().isTerminal()) {
        // Ended while pumping (the client left during a write, say): the agent has not heard why.
        answerAgent(410, "This exchange ended before the response was delivered (" + exchange.state() + ").");
      }
    }
  }

  /** Pumps inside the guard of the client's request too, which the container may have ended. */
  private void pumpInClientGuard() throws IOException {
    CallGuard clientRequest = client.guard();
    try {
      if (clientRequest.enter()) {
        pump(clientRequest);
      } else {
        exchange.clientGone("The container ended the client's request during the response.");
      }
    } finally {
      clientRequest.exit();
    }
  }

  /** Moves what it can from the agent to the client; runs in the client's lane only. */
  private void pump(CallGuard clientRequest) throws IOException {
    while (!agentAnswered.get() && !clientRequest.isEnded()) {
      if (pendingLength > 0) {
        if (!writeToClient()) {
          return;
        }
        exchange.addBytesToClient(pendingLength);
        exchange.touch();
        pendingLength = 0;
        flushNeeded = true;
      }
      if (endReached) {
        // Everything is handed to the socket before the request completes (see FinalFlush); a
        // flush that fails is the client's, like any other broken write.
        if (flushNeeded) {
          flushClient();
        }
        if (!flushNeeded && clientOut.isReady()) {
          exchange.complete();
          answerAgent(204, null);
        }
        return;
      }
      FrameReader.Event event;
      try {
        event = frames.next(buffer);
      } catch (FrameException e) {
        exchange.fail(502, Kind.RESPONSE_MALFORMED.sentence(exchange.id()), "Malformed response stream: " + e.getMessage());
        answerAgent(400, "Malformed response stream: " + e.getMessage());
        return;
      }
      switch (event) {
        case HEAD:
          if (!applyHead()) {
            return;
          }
          break;
        case DATA:
          if (!length.admit(frames.dataLength())) {
            bodyMismatch(length.counted() + frames.dataLength());
            return;
          }
          pendingOffset = frames.dataOffset();
          pendingLength = frames.dataLength();
          break;
        case END:
          if (!length.complete()) {
            bodyMismatch(length.counted());
            return;
          }
          endReached = true;
          flushNeeded = true;
          break;
        case ABORT:
          exchange.fail(502, "The backend's response broke off.");
          LOG.info(() -> "exchange " + exchange.id() + ": agent aborted the response: " + frames.abortReason());
          answerAgent(204, null);
          return;
        default:
          if (!readMore()) {
            return;
          }
      }
    }
  }

  /**
   * Writes the pending body region to the client; false when the client cannot take it now (its
   * listener calls back) or is gone. Client failures are told apart from agent failures here, since
   * an exception thrown out of the agent's read callback would be reported as the agent's.
   */
  private boolean writeToClient() {
    try {
      if (!clientOut.isReady()) {
        return false;
      }
      clientOut.write(buffer.array(), pendingOffset, pendingLength);
      return true;
    } catch (IOException | IllegalStateException e) {
      exchange.clientGone("The client's connection broke during the response: " + e);
      return false;
    }
  }

  private void flushClient() {
    try {
      if (clientOut.isReady()) {
        flushNeeded = false;
        clientOut.flush();
      }
    } catch (IOException | IllegalStateException e) {
      exchange.clientGone("The client's connection broke during the response: " + e);
    }
  }

  /** Reads more of the agent's stream; false when nothing is available now (or it ended). */
  private boolean readMore() throws IOException {
    // The client's output may still hold a reference to the buffer's array until its last
    // write completes: refilling the buffer before that would corrupt what the client receives.
    if (clientOut != null && !clientOut.isReady()) {
      return false;
    }
    if (agentIn.isFinished()) {
      agentStreamCut();
      return false;
    }
    if (!agentReadiness.isReady(agentIn)) {
      if (flushNeeded && clientOut != null) {
        flushClient();
      }
      return false;
    }
    int n = BufferReads.readInto(agentIn, buffer);
    if (n < 0) {
      agentStreamCut();
      return false;
    }
    return true;
  }

  /**
   * The body does not match the length the client was promised: cut it (or answer 502 while
   * nothing was sent), so no client ever reads one response into the next.
   */
  private void bodyMismatch(long sent) {
    String why = length.mismatch(sent);
    exchange.fail(502, Kind.BODY_LENGTH_MISMATCH.sentence(exchange.id()), why);
    answerAgent(400, why);
  }

  private void agentStreamCut() {
    exchange.fail(502, Kind.RESPONSE_MALFORMED.sentence(exchange.id()), "The agent's response ended without an end frame.");
    answerAgent(400, "The response stream ended without an end frame.");
  }

  /** Checks the head and starts the client's response; false when the exchange ended instead. */
  private boolean applyHead() throws IOException {
    ResponseStart.Outcome outcome = ResponseStart.check(exchange, client, frames.head(), via);
    if (!outcome.started()) {
      answerAgent(outcome.agentStatus(), outcome.agentMessage());
      return false;
    }
    if (client.isReleased()) {
      exchange.clientGone("The client's request ended before the response.");
      return false;
    }
    length = outcome.length(exchange.head().method());
    ResponseStart.writeHead(client, outcome.verdict(), exchange.id());
    // What the agent sent in one read goes to the container in one piece, not cut at its default
    // 8 KiB buffer.
    client.response().setBufferSize(BUFFER);
    clientOut = client.response().getOutputStream();
    clientOut.setWriteListener(new ClientSide());
    client.writingNonBlocking();
    return true;
  }

  /**
   * Answers the agent's call once: 204 when the response was delivered, else why not. Any thread
   * may decide the answer; it is written in the lane.
   */
  private void answerAgent(int status, String message) {
    if (agentAnswered.compareAndSet(false, true)) {
      client.lane().execute(() -> writeAgentAnswer(status, message));
    }
  }

  private void writeAgentAnswer(int status, String message) {
    try {
      if (!agentCall.enter() || !agentCallCompleted.compareAndSet(false, true)) {
        return;
      }
      HttpServletResponse agentResponse = (HttpServletResponse) agentAsync.getResponse();
      if (message == null) {
        agentResponse.setStatus(status);
      } else {
        Responses.agentText(agentResponse, status, message);
      }
      agentAsync.complete();
    } catch (IOException | IllegalStateException e) {
      LOG.log(Level.FINE, "Could not answer the agent's response call", e);
    } finally {
      agentCall.exit();
    }
  }

  @Override
  public void exchangeEnded(ExchangeState state) {
    // When the pump ends the exchange it answers the agent itself, with the reason (400 for a
    // refused head or a body that breaks its length): a 410 first would hide the agent's fault.
    if (state != ExchangeState.COMPLETED && pumping != Thread.currentThread()) {
      answerAgent(410, "This exchange ended before the response was delivered (" + state + ").");
    }
  }

  /** Events of the agent's response stream. */
  private final class AgentSide implements ReadListener {
    @Override
    public void onDataAvailable() {
      pump.wake();
    }

    @Override
    public void onAllDataRead() {
      pump.wake();
    }

    @Override
    public void onError(Throwable failure) {
      agentCallBroke();
    }
  }

  /**
   * The agent's own connection broke, seen inside the container's error handling: nothing can
   * reach the agent any more, and the call is completed here, before this returns, so the
   * container never has to end it itself (see {@link AgentCallBroken}).
   */
  private void agentCallBroke() {
    // First, so a pump in progress stops at its next step instead of keeping the container waiting.
    agentAnswered.set(true);
    agentCall.endByContainer(() -> {
      if (agentCallCompleted.compareAndSet(false, true)) {
        // 410 reaches an agent whose call the container timed out (it is stopping the proxy).
        AgentCallBroken.complete(agentAsync, 410);
      }
    });
    exchange.fail(502, "The connection to the agent broke during the response.");
  }

  /** Events of the client's connection. */
  private final class ClientSide implements WriteListener {
    @Override
    public void onWritePossible() {
      pump.wake();
      client.writePossible();
    }

    @Override
    public void onError(Throwable failure) {
      exchange.clientGone("The client's connection broke during the response: " + failure);
    }
  }
}
