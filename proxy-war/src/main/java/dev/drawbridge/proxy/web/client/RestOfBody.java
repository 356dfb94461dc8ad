package dev.drawbridge.proxy.web.client;

import dev.drawbridge.proxy.exchange.Tunnel;
import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.function.LongSupplier;

/**
 * The rest of a client's body after its answer. A service may answer an upload before reading it
 * (a 401, a 413); the answer goes to the client at once and the body's relay goes on reading the
 * rest and dropping it, so a client that sends its whole body before it reads still gets the
 * answer. The client's request then completes only once that rest was read, or when the tunnel
 * lets it go (see {@link Tunnel#holdAfterAnswer}). The leg's lane runs every step but the first
 * two, which the relay and the exchange call before the answer is given.
 */
final class RestOfBody {

  private final HttpServletRequest request;
  private final HttpServletResponse response;
  private final ClientAnswers answers;
  private final Object key;
  /** Completes the request in the lane, with no rest holding it any more. */
  private final Runnable complete;

  /** Set while the relay reads the rest of the body. */
  private volatile boolean reading;
  /** Counts the rest as the relay reads it. */
  private volatile LongSupplier bytesRead = () -> 0L;
  /** The relayed answer's status and declared length (-1 for none), from its head. */
  private volatile int answerStatus;
  private volatile long answerLength = -1;
  /** Set once the answer is complete and only the rest of the body holds the request open. */
  private volatile boolean completionDue;
  /** The tunnel that holds the request; null while none does. */
  private volatile Tunnel holdingTunnel;

  /**
   * @param key the request's key in the tunnel's register of held requests
   * @param complete completes the request, in the lane
   */
  RestOfBody(HttpServletRequest request, HttpServletResponse response, ClientAnswers answers, Object key,
      Runnable complete) {
    this.request = request;
    this.response = response;
    this.answers = answers;
    this.key = key;
    this.complete = complete;
  }

  /** The relayed answer's head was set, with the service's {@code contentLength} or -1; in the lane. */
  void answerHead(int status, long contentLength) {
    answerStatus = status;
    answerLength = contentLength;
  }

  /** The relay goes on reading the body after the answer, counting it in {@code read}. */
  void reading(LongSupplier read) {
    bytesRead = read;
    reading = true;
  }

  /**
   * True when the completion must wait for the rest: the answer's end is clear to the client from
   * its head. A chunked answer ends only with the request, so it completes at once, and the
   * container deals with the rest. From then on the request is held; in the lane.
   */
  boolean holdsCompletion() {
    if (!reading || completionDue || !answerDelimited()) {
      return false;
    }
    completionDue = true;
    hold(bytesRead);
    return true;
  }

  /**
   * The relay read the rest ({@code read}), or could not: a completion waiting for it goes on,
   * unless the container would then close a connection the client is still sending on. The
   * request is held a few seconds more then (until the tunnel finds its body idle), so that the
   * client reads its answer before the close; a reset would drop the answer from its buffers.
   */
  void ended(boolean read) {
    answers.inLane(() -> {
      if (!read && containerClosesWithoutReading()) {
        hold(() -> 0L);
      } else {
        release();
      }
    });
  }

  /** The container ended the request, or is ending it: nothing holds it any more. */
  void forget() {
    reading = false;
    Tunnel tunnel = holdingTunnel;
    if (tunnel != null) {
      tunnel.heldRequestEnded(key);
    }
  }

  /** True once the answer is complete and only the rest of the body holds the request. */
  boolean completionDue() {
    return completionDue;
  }

  /** True when the answer's head tells the client where its body ends: a length, or no body at all. */
  private boolean answerDelimited() {
    int status = answerStatus;
    return answerLength >= 0 || status == 204 || status == 304 || "HEAD".equals(request.getMethod());
  }

  private void hold(LongSupplier read) {
    Tunnel tunnel = Responses.tunnel(request.getServletContext());
    holdingTunnel = tunnel;
    tunnel.holdAfterAnswer(key, read, () -> answers.inLane(this::release));
  }

  private void release() {
    forget();
    if (completionDue) {
      complete.run();
    }
  }

  /**
   * True when the container closes the connection without reading the rest of the body once the
   * request completes: Tomcat does so after a non-2xx answer to a request that asked {@code
   * Expect: 100-continue}, and reads (swallows) the rest otherwise.
   */
  private boolean containerClosesWithoutReading() {
    String expect = request.getHeader("Expect");
    int status = response.getStatus();
    return expect != null && expect.equalsIgnoreCase("100-continue") && (status < 200 || status > 299);
  }
}
