package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.protocol.FrameException;
import dev.drawbridge.protocol.HeaderField;
import dev.drawbridge.protocol.Protocol;
import dev.drawbridge.protocol.ResponseHead;
import dev.drawbridge.protocol.WireJson;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.http.ClientSentences;
import dev.drawbridge.proxy.http.ClientSentences.Kind;
import dev.drawbridge.proxy.http.ForwardedHeaders;
import dev.drawbridge.proxy.http.ResponseHeadRules;
import dev.drawbridge.proxy.http.ResponseLength;
import dev.drawbridge.proxy.web.client.ServletClientLeg;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns an agent's response head into the start of the client's response: {@link #check} parses
 * it, ends the exchange on a failure head, checks it with {@link ResponseHeadRules} and moves the
 * exchange to responding, all without touching the client; {@link #writeHead} then sets the
 * client's status and headers, in the client's lane. Shared by streamed and batched responses.
 */
final class ResponseStart {

  /**
   * What became of a head, and what to tell the agent about it.
   *
   * @param started true when the exchange is responding and {@link #writeHead} may start the
   *     client's response
   * @param verdict the accepted head, when started
   */
  record Outcome(boolean started, int agentStatus, String agentMessage, ResponseHeadRules.Verdict verdict) {

    static Outcome started(ResponseHeadRules.Verdict verdict) {
      return new Outcome(true, 204, null, verdict);
    }

    /** The head ended the exchange as the agent meant (a failure head): nothing to complain about. */
    static final Outcome ENDED = new Outcome(false, 204, null, null);

    static Outcome refused(int status, String message) {
      return new Outcome(false, status, message, null);
    }

    /** The body length the head declared, or -1. */
    long contentLength() {
      return verdict == null ? -1 : verdict.contentLength();
    }

    /** The body length the client is promised, to count the body against; only when started. */
    ResponseLength length(String requestMethod) {
      return ResponseLength.of(requestMethod, verdict.status(), verdict.contentLength());
    }
  }

  private ResponseStart() {}

  /** Judges the head and starts the exchange's response; touches nothing of the client's. */
  static Outcome check(Exchange exchange, ServletClientLeg client, byte[] headJson, String via) {
    ResponseHead head;
    try {
      head = WireJson.readResponseHead(headJson);
    } catch (FrameException e) {
      exchange.fail(502, Kind.RESPONSE_REFUSED.sentence(exchange.id()), "The agent sent a malformed response head: " + e.getMessage());
      return Outcome.refused(400, "Malformed response head: " + e.getMessage());
    }
    if (head.failure() != null) {
      exchange.fail(head.failure().status(), ClientSentences.of(head.failure()).sentence(exchange.id()), agentsReport(head));
      return Outcome.ENDED;
    }
    ResponseHeadRules.Verdict verdict =
        ResponseHeadRules.judge(head, ForwardedHeaders.viaEntry(client.protocol(), via));
    if (!verdict.accepted()) {
      exchange.fail(502, Kind.RESPONSE_REFUSED.sentence(exchange.id()), "The backend's response was refused: it had " + verdict.error() + ".");
      return Outcome.refused(400, "Response head refused: it had " + verdict.error() + ".");
    }
    if (!exchange.startResponse(verdict.status())) {
      return exchange.state().isTerminal()
          ? Outcome.refused(410, "This exchange already ended; its client is gone or it timed out.")
          : Outcome.refused(409, "This exchange was already answered.");
    }
    return Outcome.started(verdict);
  }

  /** Sets the client's status and headers from an accepted head; runs in the client's lane. */
  static void writeHead(ServletClientLeg client, ResponseHeadRules.Verdict verdict, String exchangeId) {
    HttpServletResponse clientResponse = client.response();
    clientResponse.setStatus(verdict.status());
    // The first field of each name replaces what the container may have set already (Jetty adds
    // Date and Server up front), so single-valued headers never appear twice; repeats are added.
    Set<String> seen = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    for (HeaderField field : verdict.headers()) {
      if (seen.add(field.name())) {
        clientResponse.setHeader(field.name(), field.value());
      } else {
        clientResponse.addHeader(field.name(), field.value());
      }
    }
    clientResponse.setHeader(Protocol.EXCHANGE_ID_HEADER, exchangeId);
    if (verdict.contentLength() >= 0) {
      clientResponse.setContentLengthLong(verdict.contentLength());
    }
    client.answerHead(verdict.status(), verdict.contentLength());
  }

  /** The agent's own account of a failure, for the log and the admin page only. */
  private static String agentsReport(ResponseHead head) {
    String message = head.message();
    if (message == null || message.isBlank()) {
      return "The agent could not get a response from the backend (" + head.failure() + ").";
    }
    return "The agent reports " + head.failure() + ": " + AgentCaller.sanitize(message, 200);
  }
}
