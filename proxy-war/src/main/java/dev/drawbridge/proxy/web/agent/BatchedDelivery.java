package dev.drawbridge.proxy.web.agent;

import dev.drawbridge.protocol.BatchAnswer;
import dev.drawbridge.protocol.BatchedResponse;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.exchange.ExchangeState;
import dev.drawbridge.proxy.exchange.Tunnel;
import dev.drawbridge.proxy.http.ClientSentences.Kind;
import dev.drawbridge.proxy.http.ResponseHeadRules;
import dev.drawbridge.proxy.http.ResponseLength;
import dev.drawbridge.proxy.web.CallGuard;
import dev.drawbridge.proxy.web.Lane;
import dev.drawbridge.proxy.web.client.ServletClientLeg;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.IOException;

/**
 * Hands one batched response to its exchange with the checks of a per-exchange response call (its
 * backend, its agent, still waiting for an answer), then writes it to the client without blocking.
 * The checks run on the batch's thread, so the agent learns at once what was refused; the writing
 * runs in the client's lane, since the batch's thread serves the agent's connection (see {@link
 * dev.drawbridge.proxy.web.Handoff}), inside the guard of the client's request. The body is
 * already whole in memory, so a slow client holds up no one else.
 */
final class BatchedDelivery implements WriteListener {

  private final Exchange exchange;
  private final ServletClientLeg client;
  private final BatchedResponse response;
  private final ResponseHeadRules.Verdict verdict;
  private final boolean empty;
  private final Lane.Pump pump;
  private ServletOutputStream out;
  private boolean written;
  private final FinalFlush finalFlush = new FinalFlush();

  private BatchedDelivery(
      Exchange exchange, ServletClientLeg client, BatchedResponse response, ResponseHeadRules.Verdict verdict, boolean empty) {
    this.exchange = exchange;
    this.client = client;
    this.response = response;
    this.verdict = verdict;
    this.empty = empty;
    this.pump = client.lane().pump(() -> inClientGuard(this::pump));
  }

  /** Delivers {@code response}; returns null when it reached its exchange, else why not. */
  static BatchAnswer.Refusal deliver(
      Tunnel tunnel, AgentCaller caller, BatchedResponse response, String via) {
    String id = response.exchangeId();
    ExchangeLookup lookup = ExchangeLookup.find(tunnel, id).deliveredTo(caller.backend(), caller.session());
    if (!lookup.found()) {
      return refusal(id, lookup.status(), lookup.message());
    }
    Exchange exchange = lookup.exchange();
    if (exchange.state() != ExchangeState.DELIVERED) {
      return refusal(id, 409, "This exchange was already answered.");
    }
    if (exchange.isUpgrade()) {
      // Its answer starts an upgraded connection, which only a response call of its own can carry.
      exchange.fail(502, "The agent answered the handshake in a way this proxy cannot relay.");
      return refusal(id, 400, "Answer a protocol-switch exchange with its own response call, not in a batch.");
    }
    ServletClientLeg client = (ServletClientLeg) exchange.client();
    ResponseStart.Outcome outcome = ResponseStart.check(exchange, client, response.head(), via);
    if (!outcome.started()) {
      return outcome.agentMessage() == null ? null : refusal(id, outcome.agentStatus(), outcome.agentMessage());
    }
    ResponseLength length = outcome.length(exchange.head().method());
    if (!length.fitsWhole(response.bodyLength())) {
      String why = length.mismatch(response.bodyLength());
      exchange.fail(502, Kind.BODY_LENGTH_MISMATCH.sentence(id), why);
      return refusal(id, 400, why);
    }
    BatchedDelivery delivery =
        new BatchedDelivery(exchange, client, response, outcome.verdict(), response.bodyLength() == 0);
    client.lane().execute(() -> delivery.inClientGuard(delivery::start));
    return null;
  }

  private static BatchAnswer.Refusal refusal(String id, int status, String message) {
    return new BatchAnswer.Refusal(AgentCaller.sanitize(id), status, message);
  }

  /** Runs a step on the client's response inside its guard, or not at all once the container ended it. */
  private void inClientGuard(Runnable step) {
    CallGuard clientRequest = client.guard();
    try {
      if (clientRequest.enter()) {
        step.run();
      } else {
        exchange.clientGone("The container ended the client's request before its response was written.");
      }
    } finally {
      clientRequest.exit();
    }
  }

  /** Starts the client's response; in the client's lane. */
  private void start() {
    if (client.isReleased() || exchange.state() != ExchangeState.RESPONDING) {
      return;
    }
    try {
      ResponseStart.writeHead(client, verdict, exchange.id());
      if (empty) {
        exchange.complete();
        return;
      }
      out = client.response().getOutputStream();
      out.setWriteListener(this);
      client.writingNonBlocking();
    } catch (IOException | IllegalStateException e) {
      exchange.clientGone("The client's connection broke before the response: " + e);
    }
  }

  /** Writes the body once the client can take it, then completes; in the client's lane. */
  private void pump() {
    try {
      if (exchange.state() != ExchangeState.RESPONDING || !out.isReady()) {
        return;
      }
      if (!written) {
        written = true;
        out.write(response.bodyArray(), response.bodyOffset(), response.bodyLength());
        exchange.addBytesToClient(response.bodyLength());
        exchange.touch();
      }
      if (finalFlush.done(out)) {
        exchange.complete();
      }
    } catch (IOException | IllegalStateException e) {
      exchange.clientGone("The client's connection broke during the response: " + e);
    }
  }

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
