package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.protocol.Frames;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.exchange.ExchangeRelay;
import dev.drawbridge.proxy.exchange.ExchangeState;
import dev.drawbridge.proxy.web.CallGuard;
import dev.drawbridge.proxy.web.Lane;
import dev.drawbridge.proxy.web.ReadReadiness;
import dev.drawbridge.proxy.web.client.ServletClientLeg;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Pipes a client's request body to the agent as data frames, without blocking: it reads from the
 * client only when the agent's connection can take more, so a fast client cannot fill the proxy's
 * memory and a slow one holds no thread. The stream ends with an end frame only when the client's
 * body was complete; any other ending leaves it without one, which the agent treats as a failure.
 *
 * <p>A service may answer before it read the whole body: a 401 to a client that is not signed in,
 * a 413 to a file too large. The answer then goes to the client at once, and the relay goes on
 * reading the rest of the client's body and discards it, as nginx does (Tomcat does that itself),
 * so a client that sends its whole body before it reads anything still gets the answer, on a
 * connection it can reuse. The
 * agent's call ends with the exchange; the client's request completes once its body ended, or
 * when the tunnel lets it go (see {@link dev.drawbridge.proxy.exchange.Tunnel#holdAfterAnswer}).
 *
 * <p>The relay touches two connections, so all its stream I/O runs in the client's {@link Lane};
 * the listeners of both streams only wake it (see {@link dev.drawbridge.proxy.web.Handoff}). The
 * lane works on the agent's call only inside its {@link CallGuard}, and on the client's request
 * only inside the client's as well.
 */
final class RequestBodyRelay implements ExchangeRelay {

  /**
   * Body bytes per data frame and per write to the agent. Each write costs the container a round of
   * its event loop when the socket is full, so bulk bodies move in large pieces.
   */
  private static final int CHUNK = 64 * 1024;

  private final Exchange exchange;
  private final AsyncContext agentAsync;
  private final ServletInputStream clientIn;
  private final ServletOutputStream agentOut;
  private final long maxBody;
  private final byte[] buffer = new byte[Frames.HEADER_LENGTH + CHUNK];
  private final AtomicBoolean agentDone = new AtomicBoolean();
  private final Lane lane;
  private final ServletClientLeg client;
  /**
   * True on Tomcat, which reads the rest of a request's body itself once the request completes (up
   * to its connector's {@code maxSwallowSize}), and which version 11 no longer lets the application
   * read once the answer's declared length was written. A read of that rest by the proxy that meets
   * the client's close leaves Tomcat 10.1 unable to complete the request.
   */
  private final boolean containerReadsTheRest;
  /** The guard of the client's request, whose body this relay reads. */
  private final CallGuard clientRequest;
  private final ReadReadiness clientReadiness = new ReadReadiness();
  private final Lane.Pump pump;
  private volatile boolean clientFinished;
  /** Set when the exchange ended with the client's body unfinished: the rest is read and dropped. */
  private volatile boolean restOfBody;
  /** Bytes of that rest read so far. */
  private volatile long restRead;
  /** Where that rest is read: the agent's output may still hold {@link #buffer}. Lane only. */
  private byte[] restBuffer;
  private boolean clientListening;
  private int pending;
  private long total;
  private boolean endWritten;
  private boolean flushNeeded;
  private final FinalFlush finalFlush = new FinalFlush();
  /** Set by whoever completes the agent's call: the lane, or the container's error callback. */
  private final AtomicBoolean agentCallCompleted = new AtomicBoolean();
  private final CallGuard agentCall = new CallGuard();

  private RequestBodyRelay(
      Exchange exchange,
      AsyncContext agentAsync,
      ServletInputStream clientIn,
      ServletOutputStream agentOut,
      long maxBody,
      ServletClientLeg client) {
    this.exchange = exchange;
    this.client = client;
    this.lane = client.lane();
    this.clientRequest = client.guard();
    this.pump = lane.pump(this::pumpGuarded);
    this.agentAsync = agentAsync;
    this.clientIn = clientIn;
    this.containerReadsTheRest = clientIn.getClass().getName().startsWith("org.apache.catalina.");
    this.agentOut = agentOut;
    this.maxBody = maxBody;
  }

  static void start(Exchange exchange, ServletClientLeg client, AsyncContext agentAsync, long maxBody)
      throws IOException {
    agentAsync.setTimeout(0);
    HttpServletResponse agentResponse = (HttpServletResponse) agentAsync.getResponse();
    agentResponse.setStatus(200);
    agentResponse.setContentType(Protocol.FRAMES_TYPE);
    agentResponse.setHeader(Protocol.PROXY_VERSION_HEADER, Protocol.SOFTWARE_VERSION);
    // A frame goes to the container in one piece, not cut at its default 8 KiB buffer.
    agentResponse.setBufferSize(Frames.HEADER_LENGTH + CHUNK);
    RequestBodyRelay relay =
        new RequestBodyRelay(
            exchange, agentAsync, client.request().getInputStream(), agentResponse.getOutputStream(), maxBody, client);
    if (!exchange.attach(relay)) {
      relay.endAgentCall();
      return;
    }
    // The agent's own connection, on its own request thread, first: the pump asks the agent's
    // output isReady(), which a container refuses before its write listener is set. A wake from it
    // before the client side is listening finds nothing to do.
    agentAsync.addListener(new AgentCallBroken(relay::agentCallBroke));
    relay.agentOut.setWriteListener(relay.new AgentSide());
    // The client's connection is another one: its listener is set in the lane.
    relay.lane.execute(relay::listenToClient);
  }

  private void listenToClient() {
    try {
      if (!clientRequest.enter()) {
        exchange.clientGone("The container ended the client's request before its body was fetched.");
        return;
      }
      if (agentDone.get()) {
        // The exchange ended first: its answer may already have completed the client's request.
        endRestOfBody(true);
        return;
      }
      clientIn.setReadListener(clientReadiness.announcing(new ClientSide()));
      clientListening = true;
    } catch (IllegalStateException e) {
      exchange.clientGone("The client's request ended before its body was fetched: " + e);
      return;
    } finally {
      clientRequest.exit();
    }
    pump.wake();
  }

  private void pumpGuarded() {
    if (restOfBody && agentDone.get()) {
      discardRestGuarded();
      return;
    }
    boolean broke = false;
    try {
      if (agentCall.enter()) {
        pumpInClientGuard();
      }
    } catch (IOException | IllegalStateException e) {
      broke = true;
    } finally {
      agentCall.exit();
    }
    if (broke) {
      exchange.fail(502, "The connection to the agent broke while it read the request body.");
      endAgentCall();
    }
  }

  /** Pumps inside the guard of the client's request too, which the container may have ended. */
  private void pumpInClientGuard() throws IOException {
    try {
      if (clientRequest.enter()) {
        pump();
      } else {
        exchange.clientGone("The container ended the client's request during its body.");
      }
    } finally {
      clientRequest.exit();
    }
  }

  /** Moves what it can from the client to the agent; runs in the client's lane only. */
  private void pump() throws IOException {
    while (!agentDone.get() && clientListening && !clientRequest.isEnded()) {
      // The agent's output may hold the buffer's array until its last write completes: touch
      // the buffer again only once the output is ready (its listener calls back otherwise).
      if (!agentOut.isReady()) {
        return;
      }
      if (pending > 0) {
        agentOut.write(buffer, 0, pending);
        pending = 0;
        flushNeeded = true;
        exchange.touch();
        continue;
      }
      if (endWritten) {
        endAgentCall();
        return;
      }
      if (clientFinished || clientIn.isFinished()) {
        clientFinished = true;
        Frames.putHeader(buffer, 0, Frames.END, 0);
        pending = Frames.HEADER_LENGTH;
        endWritten = true;
        continue;
      }
      if (!clientReadiness.isReady(clientIn)) {
        // Checked again: a flush while the last write is still pending is refused (Tomcat throws),
        // and the agent's listener calls back once the output is ready, with the flush still due.
        if (flushNeeded && agentOut.isReady()) {
          flushNeeded = false;
          agentOut.flush();
        }
        return;
      }
      int n;
      try {
        n = clientIn.read(buffer, Frames.HEADER_LENGTH, CHUNK);
      } catch (IOException e) {
        // Thrown out of the agent's write callback it would be blamed on the agent: it is the client's.
        exchange.clientGone("The client's request body broke off: " + e);
        return;
      }
      if (n < 0) {
        clientFinished = true;
        continue;
      }
      if (n == 0) {
        continue;
      }
      total += n;
      exchange.addBytesFromClient(n);
      if (maxBody > 0 && total > maxBody) {
        exchange.fail(413, "The request body exceeds the limit of " + maxBody + " bytes.");
        return;
      }
      Frames.putHeader(buffer, 0, Frames.DATA, n);
      pending = Frames.HEADER_LENGTH + n;
    }
  }

  /** Reads and drops the rest of the client's body after its answer; in the lane. */
  private void discardRestGuarded() {
    try {
      if (clientRequest.enter()) {
        discardRest();
      }
    } finally {
      clientRequest.exit();
    }
  }

  private void discardRest() {
    try {
      while (clientListening && !clientRequest.isEnded()) {
        if (clientFinished || clientIn.isFinished()) {
          endRestOfBody(true);
          return;
        }
        if (!clientReadiness.isReady(clientIn)) {
          return;
        }
        if (restBuffer == null) {
          restBuffer = new byte[CHUNK];
        }
        int n = clientIn.read(restBuffer, 0, restBuffer.length);
        if (n < 0) {
          clientFinished = true;
        } else {
          total += n;
          restRead += n;
          if (maxBody > 0 && total > maxBody) {
            // Past the limit the container may close the connection rather than read on.
            endRestOfBody(true);
            return;
          }
        }
      }
    } catch (IOException e) {
      // The client broke off; completing its request lets the container close the connection.
      endRestOfBody(false);
    }
  }

  /**
   * The rest of the client's body was read ({@code read}), or cannot be: its request may
   * complete.
   */
  private void endRestOfBody(boolean read) {
    if (restOfBody) {
      restOfBody = false;
      client.restOfBodyRead(read);
    }
  }

  /**
   * Ends the agent's call; without an end frame written first, the agent sees a cut body. Any
   * thread may end it; the call is completed in the lane.
   */
  private void endAgentCall() {
    if (agentDone.compareAndSet(false, true)) {
      lane.execute(this::completeAgentCallOnceWritten);
    }
  }

  /**
   * Completes the agent's call once everything written to it reached the socket ({@link
   * FinalFlush}); in the lane. A write still pending waits for the agent's write listener, or for
   * its error ({@link #agentCallBroke}) once the agent closed the connection or the container's
   * write timeout passed.
   */
  private void completeAgentCallOnceWritten() {
    try {
      if (!agentCall.enter() || agentCallCompleted.get()) {
        return;
      }
      try {
        if (!finalFlush.done(agentOut)) {
          return;
        }
      } catch (IOException | IllegalStateException e) {
        // Broken, or ended before its write listener was set: nothing is pending any more.
      }
      if (agentCallCompleted.compareAndSet(false, true)) {
        AgentCallBroken.complete(agentAsync);
      }
    } finally {
      agentCall.exit();
    }
  }

  /** Events of the client's request body. */
  private final class ClientSide implements ReadListener {
    @Override
    public void onDataAvailable() {
      pump.wake();
    }

    @Override
    public void onAllDataRead() {
      clientFinished = true;
      pump.wake();
    }

    @Override
    public void onError(Throwable failure) {
      exchange.clientGone("The client's request body broke off: " + failure);
      endAgentCall();
    }
  }

  /** Events of the agent's connection. */
  private final class AgentSide implements WriteListener {
    @Override
    public void onWritePossible() {
      if (agentDone.get()) {
        lane.execute(RequestBodyRelay.this::completeAgentCallOnceWritten);
      } else {
        pump.wake();
      }
    }

    @Override
    public void onError(Throwable failure) {
      agentCallBroke();
    }
  }

  /**
   * The agent's own connection broke, seen inside the container's error handling: the call is
   * completed here, before this returns, so the container never has to end it itself (see {@link
   * AgentCallBroken}).
   */
  private void agentCallBroke() {
    agentDone.set(true);
    agentCall.endByContainer(() -> {
      if (agentCallCompleted.compareAndSet(false, true)) {
        AgentCallBroken.complete(agentAsync);
      }
    });
    exchange.fail(502, "The connection to the agent broke while it read the request body.");
  }

  @Override
  public void exchangeEnded(ExchangeState state) {
    if (state == ExchangeState.COMPLETED && !clientFinished) {
      // Told before the exchange gives the client its completion, which may then wait for the rest.
      client.readingRestOfBody(() -> restRead);
      if (containerReadsTheRest) {
        client.restOfBodyRead(false);
      } else {
        restOfBody = true;
      }
    }
    endAgentCall();
    if (restOfBody) {
      pump.wake();
    }
  }
}
