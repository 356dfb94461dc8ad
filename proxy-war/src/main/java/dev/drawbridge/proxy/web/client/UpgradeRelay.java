package dev.drawbridge.proxy.web.client;

import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.exchange.ExchangeRelay;
import dev.drawbridge.proxy.exchange.ExchangeState;
import dev.drawbridge.proxy.web.CallGuard;
import dev.drawbridge.proxy.web.Handoff;
import dev.drawbridge.proxy.web.Lane;
import dev.drawbridge.proxy.web.ReadReadiness;
import dev.drawbridge.proxy.web.Responses;
import dev.drawbridge.proxy.web.agent.AgentCallBroken;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.WebConnection;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Relays one upgraded connection (a WebSocket) between the client and the agent's two calls:
 * downstream, the agent's response call (the backend's answer head, then the backend's bytes) to
 * the client; upstream ({@link UpgradeUpstream}), the client's bytes after the switch to the
 * agent's request-body call.
 *
 * <p>Four connections meet here, so every read, write, flush and completion runs in one {@link
 * Lane}; the container callbacks of each connection only record what happened and wake the lane
 * ({@link UpgradeStreams}). One exception: on Undertow the lane hands each read of the client's
 * upgraded input to that connection's I/O thread ({@link UndertowSocket}). Each run of the lane
 * holds the {@link CallGuard} of both agent calls, and of a relayed refusal's client request, so
 * the container never ends one of them under it. Each direction holds at most one buffer of
 * {@value #CHUNK} bytes and reads from its source only once its sink took the previous piece, so a
 * slow reader stalls its writer and memory does not grow with it. A direction with nothing to move
 * gives its buffer back, so a thousand quiet WebSockets cost no buffers at all.
 *
 * <p>The connection ends when either direction ends: an end frame from the agent (the backend
 * closed) completes the exchange once its bytes reached the client; the client closing its side
 * (or the container closing it) sends the agent an end frame and completes the exchange, and the
 * agent then closes the backend connection. Anything else (a broken connection, an abort frame,
 * silence for the idle timeout) ends the exchange as failed, and the end closes whatever is still
 * open, on every leg.
 */
public final class UpgradeRelay implements ExchangeRelay {

  private static final Logger LOG = Logger.getLogger(UpgradeRelay.class.getName());

  /** Bytes per piece, each way: a thousand busy WebSockets then hold at most 32 MiB of buffers. */
  static final int CHUNK = 16 * 1024;

  private final Exchange exchange;
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
  private volatile ExchangeState ended;

  // The lane's own state.
  /** The guard of a relayed refusal's client request that this run holds; null otherwise. */
  private CallGuard refusalHeld;
  private final UpgradeDownstream downstream;
  private final UpgradeUpstream upstream;
  private boolean clientClosed;

  UpgradeRelay(Exchange exchange, UpgradeClientLeg client, String viaEntry, Handoff handoff) {
    this.exchange = exchange;
    this.lane = handoff.lane();
    this.pump = lane.pump(this::run);
    this.downstream = new UpgradeDownstream(this, exchange, client, viaEntry, agentReadiness);
    this.upstream = new UpgradeUpstream(this, exchange, streams, pump::wake);
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
    if (Protocol.declares(
        ((HttpServletRequest) async.getRequest()).getHeader(Protocol.AGENT_FEATURES_HEADER),
        Protocol.FEATURE_KEEPALIVE)) {
      upstream.agentReadsKeepalives();
    }
    HttpServletResponse response = (HttpServletResponse) async.getResponse();
    response.setStatus(200);
    response.setContentType(Protocol.FRAMES_TYPE);
    response.setHeader(Protocol.PROXY_VERSION_HEADER, Protocol.SOFTWARE_VERSION);
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
    upstream.clientUpgraded(in);
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
  public void keepAlive() {
    upstream.keepaliveDue();
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
  boolean answerCallLive() {
    return !answerCall.isEnded();
  }

  /** True until the exchange ended. */
  boolean isOpen() {
    return ended == null;
  }

  /** True while the lane may touch the agent's request-body call. */
  boolean bodyCallLive() {
    return !bodyCall.isEnded();
  }

  /**
   * True while the lane may touch the client's output: an upgraded connection, or a relayed
   * refusal whose request this run holds the guard of and the container has not ended.
   */
  boolean clientLive() {
    CallGuard refusal = refusalHeld;
    return clientConnection != null || refusal != null && !refusal.isEnded();
  }

  private void runGuarded() {
    if (ended == null) {
      String failure = streams.takeFailure();
      if (failure != null) {
        endFor(failure);
      } else {
        downstream.pump(agentIn, clientOut, clientConnection != null);
        if (ended == null) {
          upstream.pump(agentOut, clientIn);
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

  /** Ends the exchange for an agent call that failed under the lane's hands. */
  void agentBroke(Exception e) {
    exchange.fail(502, "The connection to the agent broke during the upgraded connection.");
    LOG.log(Level.FINE, "exchange " + exchange.id() + ": an agent call failed", e);
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
    if (!clientClosed && connection != null && !upstream.reading()) {
      // (A read still on the container's thread wakes the lane when done; the close comes then.)
      clientClosed = true;
      if (downstream.flushNeeded()) {
        flushQuietly(clientOut);
      }
      UpgradedClose.close(connection, clientOut);
    }
  }

  /** Ends the agent's request-body call; without an end frame first the agent sees a cut stream. */
  void endAgentBody() {
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
  void answerAgent(int status, String message) {
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
