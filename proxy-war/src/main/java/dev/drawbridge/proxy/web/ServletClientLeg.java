package dev.drawbridge.proxy.web;

import dev.drawbridge.proxy.exchange.ClientLeg;
import dev.drawbridge.proxy.exchange.Exchange;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The client's request held with {@link AsyncContext}. It also listens to the container: an error
 * on the client's connection (the client went away) ends the exchange wherever it is.
 */
final class ServletClientLeg implements ClientLeg, AsyncListener {

  private static final Logger LOG = Logger.getLogger(ServletClientLeg.class.getName());

  /** Request attribute that makes the client servlet cut the connection on its next dispatch. */
  static final String ABORT_ATTRIBUTE = "dev.drawbridge.abort";

  private final AsyncContext async;
  private final HttpServletResponse response;
  private final java.util.concurrent.atomic.AtomicBoolean bodyClaimed =
      new java.util.concurrent.atomic.AtomicBoolean();
  private volatile Exchange exchange;

  /**
   * Set once the container finished the request: its request and response objects are recycled
   * then and must not be touched again.
   */
  private volatile boolean released;

  ServletClientLeg(AsyncContext async) {
    this.async = async;
    this.response = (HttpServletResponse) async.getResponse();
    async.addListener(this);
  }

  /** Binds the exchange once it exists; container events before that just release the request. */
  void bind(Exchange boundExchange) {
    this.exchange = boundExchange;
  }

  HttpServletResponse response() {
    return response;
  }

  jakarta.servlet.http.HttpServletRequest request() {
    return (jakarta.servlet.http.HttpServletRequest) async.getRequest();
  }

  /** Claims the streamed request body for one agent call; false when it was claimed before. */
  boolean claimBody() {
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
    if (released) {
      return;
    }
    try {
      response.reset();
      if (retryAfterSeconds > 0) {
        response.setHeader("Retry-After", Integer.toString(retryAfterSeconds));
      }
      if (exchange != null) {
        response.setHeader(dev.drawbridge.protocol.Protocol.EXCHANGE_ID_HEADER, exchange.id());
      }
      Responses.text(response, status, message);
    } catch (IOException | IllegalStateException e) {
      LOG.log(Level.FINE, "Could not send the error answer; the client is probably gone", e);
    }
    complete();
  }

  @Override
  public void complete() {
    if (released) {
      return;
    }
    try {
      async.complete();
    } catch (IllegalStateException e) {
      // The container already completed the request after a connection error.
      LOG.log(Level.FINE, "Client request was already completed", e);
    }
  }

  @Override
  public void abort(String reason) {
    // The Servlet API has no abort; an exception thrown from a dispatch of a committed response
    // makes the container close the connection without ending the body, so a cut stream never
    // looks complete to the client.
    if (released) {
      return;
    }
    try {
      async.getRequest().setAttribute(ABORT_ATTRIBUTE, reason);
      async.dispatch();
    } catch (IllegalStateException e) {
      LOG.log(Level.FINE, "Client request ended before it could be aborted", e);
    }
  }

  @Override
  public void discard() {
    complete();
  }

  @Override
  public void onError(AsyncEvent event) {
    Exchange bound = exchange;
    if (bound != null) {
      bound.clientGone("The client's connection failed: " + event.getThrowable());
    } else {
      complete();
    }
  }

  @Override
  public void onTimeout(AsyncEvent event) {
    // The client servlet sets no container timeout (0); its own deadlines decide. A container
    // times such a request out only when the web application stops (Tomcat does, before
    // contextDestroyed drains the tunnel), so the client gets the drain's 503 with Retry-After.
    Exchange bound = exchange;
    if (bound != null) {
      bound.backend().refuseShuttingDown(bound);
    } else {
      complete();
    }
  }

  @Override
  public void onComplete(AsyncEvent event) {
    released = true;
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
