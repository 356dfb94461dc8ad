package dev.drawbridge.proxy.web.client;

import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.proxy.exchange.ClientLeg;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.net.ConnectionKey;
import dev.drawbridge.proxy.web.CallGuard;
import dev.drawbridge.proxy.web.Handoff;
import dev.drawbridge.proxy.web.Lane;
import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The client's request held with {@link AsyncContext}. It also listens to the container: an error
 * on the client's connection (the client went away) ends the exchange wherever it is.
 *
 * <p>Whoever ends the exchange may be serving another connection (an agent's call, a poll), so
 * every answer to the client runs in the client's {@link Lane} (see {@link Handoff} for why, and
 * {@link ClientAnswers} for the container callbacks that answer themselves). The
 * relays that write the client's response run their I/O in the same lane, so nothing touches the
 * client's response from two threads at once. The lane works on the request only inside the
 * leg's {@link CallGuard}, which the container's error and timeout callbacks end: nothing the lane
 * does lands on a request the container recycled for another connection.
 */
public final class ServletClientLeg implements ClientLeg, AsyncListener {

  private static final Logger LOG = Logger.getLogger(ServletClientLeg.class.getName());

  /** Request attribute that makes the client servlet cut the connection on its next dispatch. */
  static final String ABORT_ATTRIBUTE = "dev.drawbridge.abort";

  private final AsyncContext async;
  private final HttpServletRequest request;
  private final HttpServletResponse response;
  private final String protocol;
  private final String localAddress;
  private final int localPort;
  private final String remoteAddress;
  private final int remotePort;
  /** Parsed from the four above on first use: only requests that wait long enough need it. */
  private volatile ConnectionKey connection;
  private final Lane lane;
  private final AtomicBoolean bodyClaimed = new AtomicBoolean();
  private volatile Exchange exchange;

  /**
   * Set once the container finished the request: its request and response objects are recycled
   * then and must not be touched again.
   */
  private volatile boolean released;

  /** Keeps the lane off the request once the container ended it. */
  private final CallGuard guard = new CallGuard();
  private final ClientAnswers answers;

  /** Set once a relay writes the client's body with a write listener (non-blocking). */
  private volatile boolean writesNonBlocking;

  /** Why the response must be cut, while the cut waits for a pending write; null otherwise. */
  private volatile String cutPending;

  /** Set once the cut was dispatched: it happens at most once. */
  private final AtomicBoolean cut = new AtomicBoolean();

  /** The rest of the client's body after an early answer, which may hold the completion. */
  private final RestOfBody restOfBody;

  ServletClientLeg(AsyncContext async, Handoff handoff) {
    this(async, handoff.lane());
  }

  /** A leg whose answers run in {@code lane}, shared with the relay that writes its response. */
  ServletClientLeg(AsyncContext async, Lane lane) {
    this.async = async;
    this.request = (HttpServletRequest) async.getRequest();
    this.response = (HttpServletResponse) async.getResponse();
    this.protocol = request.getProtocol();
    // Read while the request is live; its objects may be recycled once it ends.
    this.localAddress = request.getLocalAddr();
    this.localPort = request.getLocalPort();
    this.remoteAddress = request.getRemoteAddr();
    this.remotePort = request.getRemotePort();
    this.lane = lane;
    this.answers = new ClientAnswers(lane, guard);
    this.restOfBody = new RestOfBody(request, response, answers, this, this::completeNow);
    async.addListener(this);
  }

  /** Binds the exchange once it exists; container events before that just release the request. */
  void bind(Exchange boundExchange) {
    this.exchange = boundExchange;
  }

  /** The lane every task touching this client's request or response runs in. */
  public Lane lane() {
    return lane;
  }

  public HttpServletResponse response() {
    return response;
  }

  public HttpServletRequest request() {
    return request;
  }

  /** The client's HTTP version, e.g. {@code HTTP/1.1}, read once while its request was live. */
  public String protocol() {
    return protocol;
  }

  /**
   * The guard the lane's work on this request and response runs inside: a relay enters it around
   * each step that touches them, after the guard of the agent's call it also works on.
   */
  public CallGuard guard() {
    return guard;
  }

  /** True once the container finished the request; its objects must not be touched then. */
  public boolean isReleased() {
    return released;
  }

  /**
   * A relay calls this once it set a write listener on the client's output: from then on a write
   * may still be pending in the container when the response must be cut.
   */
  public void writingNonBlocking() {
    writesNonBlocking = true;
  }

  /** A relay's write listener calls this on every {@code onWritePossible}: a waiting cut may go on. */
  public void writePossible() {
    String reason = cutPending;
    if (reason != null) {
      answers.inLane(() -> abortNow(reason));
    }
  }

  /** The relayed answer's head was set, with the service's {@code contentLength} or -1; in the lane. */
  public void answerHead(int status, long contentLength) {
    restOfBody.answerHead(status, contentLength);
  }

  /**
   * The exchange ends with the client's body still arriving, and the body's relay goes on reading
   * it and counts it in {@code bytesRead}: the completion that follows may wait for the rest (see
   * {@link RestOfBody}). Called before the exchange gives its answer.
   */
  public void readingRestOfBody(LongSupplier bytesRead) {
    restOfBody.reading(bytesRead);
  }

  /** The relay read the rest of the body ({@code read}), or could not: see {@link RestOfBody#ended}. */
  public void restOfBodyRead(boolean read) {
    restOfBody.ended(read);
  }

  /** Claims the streamed request body for one agent call; false when it was claimed before. */
  public boolean claimBody() {
    return bodyClaimed.compareAndSet(false, true);
  }

  @Override
  public boolean isCommitted() {
    if (released) {
      return true;
    }
    try {
      return response.isCommitted();
    } catch (IllegalStateException e) {
      return true;
    }
  }

  @Override
  public void sendError(int status, String message, int retryAfterSeconds) {
    answer(() -> answerWithError(status, message, retryAfterSeconds));
  }

  @Override
  public void complete() {
    answer(this::completeNow);
  }

  @Override
  public void abort(String reason) {
    answer(() -> abortNow(reason));
  }

  /**
   * Releases the request of a client that is gone. When nothing was sent yet, a client that only
   * closed its sending side and still reads gets a short 400 and a closed connection, not an empty
   * 200 it would take for an answer; a client that is really gone never sees it.
   */
  @Override
  public void discard() {
    answer(this::discardNow);
  }

  @Override
  public ConnectionKey connection() {
    ConnectionKey key = connection;
    if (key == null) {
      key = ConnectionKey.of(localAddress, localPort, remoteAddress, remotePort);
      connection = key;
    }
    return key;
  }

  /**
   * Ends the request of a client that went away. A committed response is cut, not completed: the
   * exchange no longer knows whether its body was whole, and completing a short body would let the
   * container keep the connection for a next response that the client, if it is there after all,
   * would read as the rest of this one. An uncommitted one gets a short 400 and a closed
   * connection, so a client that only closed its sending side and still reads never takes an
   * empty 200 for its answer.
   */
  private void discardNow() {
    if (released) {
      return;
    }
    if (isCommitted()) {
      abortNow("The client went away during the response.");
      return;
    }
    try {
      resetKeepingId();
      response.setHeader("Connection", "close");
      Responses.text(response, 400, "The client closed its side of the connection before the answer came.");
    } catch (IOException | IllegalStateException e) {
      LOG.log(Level.FINE, "Could not answer a client that went away", e);
    }
    completeNow();
  }

  /** Clears what was set on the uncommitted response, except the exchange id the client is owed. */
  private void resetKeepingId() {
    String id = response.getHeader(Protocol.EXCHANGE_ID_HEADER);
    response.reset();
    if (id != null) {
      response.setHeader(Protocol.EXCHANGE_ID_HEADER, id);
    }
  }

  private void answer(Runnable task) {
    answers.give(task);
  }

  /**
   * Sends the error answer, or cuts the response when a relay's task in this lane committed it
   * after the exchange's owner decided on an error answer.
   */
  private void answerWithError(int status, String message, int retryAfterSeconds) {
    if (released) {
      return;
    }
    if (isCommitted()) {
      abortNow(message);
      return;
    }
    try {
      resetKeepingId();
      if (retryAfterSeconds > 0) {
        response.setHeader("Retry-After", Integer.toString(retryAfterSeconds));
      }
      Responses.text(response, status, message);
    } catch (IOException | IllegalStateException e) {
      LOG.log(Level.FINE, "Could not send the error answer; the client is probably gone", e);
    }
    completeNow();
  }

  private void completeNow() {
    if (released) {
      return;
    }
    if (restOfBody.holdsCompletion()) {
      flushAnswer();
      return;
    }
    try {
      async.complete();
    } catch (IllegalStateException e) {
      // The container already completed the request after a connection error.
      LOG.log(Level.FINE, "Client request was already completed", e);
    }
  }

  /**
   * Sends the client the rest of its answer while the request stays open for the rest of its
   * body. A write still pending in the container goes out as the client reads.
   */
  private void flushAnswer() {
    try {
      if (!writesNonBlocking || outputReady()) {
        response.flushBuffer();
      }
    } catch (IOException | IllegalStateException e) {
      LOG.log(Level.FINE, "Could not end the answer before the rest of the body", e);
    }
  }

  private void abortNow(String reason) {
    // The Servlet API has no abort; an exception thrown from a dispatch of a committed response
    // makes the container close the connection without ending the body, so a cut stream never
    // looks complete to the client (see ResponseCut).
    if (released || cut.get()) {
      return;
    }
    // A non-blocking write still pending when the connection is cut fails in Tomcat's poller, which
    // then processes an error for a request that is already completing and logs its own state as
    // broken (SEVERE). So the cut waits for the write to complete: the relay's write listener calls
    // writePossible. A client that never reads meets the container's write timeout instead.
    cutPending = reason;
    if (writesNonBlocking && !outputReady()) {
      return;
    }
    if (!cut.compareAndSet(false, true)) {
      return;
    }
    cutPending = null;
    if (applicationUnmapped()) {
      cutWithoutDispatch(reason);
      return;
    }
    try {
      request.setAttribute(ABORT_ATTRIBUTE, reason);
      async.dispatch();
    } catch (IllegalStateException e) {
      LOG.log(Level.FINE, "Client request ended before it could be aborted", e);
    } catch (RuntimeException e) {
      // A container that stops the application may refuse the dispatch inside (Tomcat throws
      // UnsupportedOperationException once it unmapped the application).
      LOG.log(Level.FINE, "Could not dispatch the cut of a client request; the container ends it", e);
      cutWithoutDispatch(reason);
    }
  }

  /**
   * True once Tomcat began stopping the application: it took the application out of its request
   * mapping then, and a dispatch fails there (Tomcat logs the failure as SEVERE, with a stack).
   */
  private boolean applicationUnmapped() {
    try {
      return Responses.tunnel(request.getServletContext()).containerStopBegan();
    } catch (IllegalStateException e) {
      return false;
    }
  }

  /**
   * Ends the connection when no dispatch can: with the proxy's answer if nothing reached the client
   * yet; else the request's timeout is cut to a millisecond, and the container closes the
   * connection of a timed-out request that nobody completed (Tomcat within a second), so a
   * stopping Tomcat does not keep the stream open until its {@code unloadDelay} runs out.
   */
  private void cutWithoutDispatch(String reason) {
    if (!isCommitted()) {
      cut.set(false);
      answerWithError(503, reason, 0);
      return;
    }
    try {
      async.setTimeout(1);
    } catch (IllegalStateException e) {
      LOG.log(Level.FINE, "Client request ended before it could be cut", e);
    }
  }

  private boolean outputReady() {
    try {
      return response.getOutputStream().isReady();
    } catch (IOException | IllegalStateException e) {
      return true;
    }
  }

  @Override
  public void onError(AsyncEvent event) {
    answers.endOnError(() -> {
      Exchange bound = exchange;
      if (bound != null) {
        bound.clientGone("The client's connection failed: " + event.getThrowable());
      } else {
        complete();
      }
    });
  }

  @Override
  public void onTimeout(AsyncEvent event) {
    // The client servlet sets no container timeout (0); its own deadlines decide. A container
    // times such a request out only when the web application stops (Tomcat does, before
    // contextDestroyed drains the tunnel), so the client gets the drain's 503 with Retry-After.
    answers.endOnTimeout(() -> {
      Exchange bound = exchange;
      if (restOfBody.completionDue()) {
        // The answer is out; only the rest of the body held the request when the container stopped.
        restOfBody.forget();
        completeNow();
      } else if (bound != null) {
        bound.backend().refuseShuttingDown(bound);
      } else {
        complete();
      }
    });
  }

  @Override
  public void onComplete(AsyncEvent event) {
    guard.markEnded();
    released = true;
    restOfBody.forget();
    Exchange bound = exchange;
    if (bound != null) {
      bound.clientGone("The container ended the client's request.");
    }
  }

  @Override
  public void onStartAsync(AsyncEvent event) {
    // Not re-started.
  }
}
