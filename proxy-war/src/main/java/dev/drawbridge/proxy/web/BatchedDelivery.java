package dev.drawbridge.proxy.web;

import dev.drawbridge.protocol.BatchAnswer;
import dev.drawbridge.protocol.BatchedResponse;
import dev.drawbridge.proxy.exchange.Exchange;
import dev.drawbridge.proxy.exchange.ExchangeState;
import dev.drawbridge.proxy.exchange.Tunnel;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.IOException;

/**
 * Hands one batched response to its exchange with the checks of a per-exchange response call (its
 * backend, its agent, still waiting for an answer), then writes the body to the client without
 * blocking. The body is already whole in memory, so a slow client holds up no one else.
 */
final class BatchedDelivery implements WriteListener {

  private final Exchange exchange;
  private final ServletOutputStream out;
  private final BatchedResponse response;
  private boolean written;

  private BatchedDelivery(Exchange exchange, ServletOutputStream out, BatchedResponse response) {
    this.exchange = exchange;
    this.out = out;
    this.response = response;
  }

  /** Delivers {@code response}; returns null when it reached its exchange, else why not. */
  static BatchAnswer.Refusal deliver(
      Tunnel tunnel, AgentCaller caller, BatchedResponse response, String via) {
    String id = response.exchangeId();
    ExchangeLookup lookup = ExchangeLookup.find(tunnel, id).deliveredTo(caller.backend(), caller.agentId());
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
    ResponseStart.Outcome outcome = ResponseStart.apply(exchange, client, response.head(), via);
    if (!outcome.started()) {
      return outcome.agentMessage() == null ? null : refusal(id, outcome.agentStatus(), outcome.agentMessage());
    }
    boolean bodiless = "HEAD".equals(exchange.head().method());
    if (!bodiless && outcome.contentLength() >= 0 && outcome.contentLength() != response.bodyLength()) {
      exchange.fail(502, "The backend's response body did not match its Content-Length.");
      return refusal(id, 400, "The body of " + response.bodyLength() + " bytes does not match Content-Length "
          + outcome.contentLength() + ".");
    }
    if (bodiless || response.bodyLength() == 0) {
      exchange.complete();
      return null;
    }
    try {
      ServletOutputStream out = client.response().getOutputStream();
      out.setWriteListener(new BatchedDelivery(exchange, out, response));
    } catch (IOException | IllegalStateException e) {
      exchange.clientGone("The client's connection broke before the response: " + e);
    }
    return null;
  }

  private static BatchAnswer.Refusal refusal(String id, int status, String message) {
    return new BatchAnswer.Refusal(AgentCaller.sanitize(id), status, message);
  }

  @Override
  public synchronized void onWritePossible() {
    try {
      if (!written) {
        written = true;
        out.write(response.bodyArray(), response.bodyOffset(), response.bodyLength());
        exchange.addBytesToClient(response.bodyLength());
        exchange.touch();
      }
      if (out.isReady()) {
        exchange.complete();
      }
    } catch (IOException | IllegalStateException e) {
      exchange.clientGone("The client's connection broke during the response: " + e);
    }
  }

  @Override
  public void onError(Throwable failure) {
    exchange.clientGone("The client's connection broke during the response: " + failure);
  }
}
