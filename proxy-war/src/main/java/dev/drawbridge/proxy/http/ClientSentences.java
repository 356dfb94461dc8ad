package dev.drawbridge.proxy.http;

import dev.drawbridge.protocol.Failure;

/**
 * The sentences a client gets when the response it waits for cannot be given, one per kind of
 * failure, chosen by the proxy. Nothing an agent or backend sent is ever part of them: an agent's
 * own explanation (which names the backend's internal address) and the details of a refused
 * response go to the proxy's log and admin page only. Each sentence names the exchange, so whoever
 * reports the error hands the operator the key to those details.
 */
public final class ClientSentences {

  /** The kinds of failure the client is told about in its own words. */
  public enum Kind {
    /** The agent could not connect to the backend, or the connection broke before an answer. */
    BACKEND_UNREACHABLE("The service behind this proxy could not be reached"),
    /** The backend did not answer within the agent's timeout. */
    BACKEND_TIMEOUT("The service behind this proxy did not answer in time"),
    /** The backend answered with something that is not HTTP. */
    BAD_BACKEND_RESPONSE("The service behind this proxy sent a response that is not valid HTTP"),
    /** The agent was shutting down and did not start the request. */
    AGENT_DRAINING("The agent for this service is restarting and did not start the request; retry shortly"),
    /** The agent's response head broke the proxy's rules or could not be read. */
    RESPONSE_REFUSED("The service's response was refused as unsafe, malformed or too large to relay"),
    /** The agent's response stream could not be read. */
    RESPONSE_MALFORMED("The response from the agent was malformed"),
    /** The response body was shorter or longer than its declared length. */
    BODY_LENGTH_MISMATCH("The service's response body did not match its declared length");

    private final String problem;

    Kind(String problem) {
      this.problem = problem;
    }

    /** The sentence for exchange {@code exchangeId}. */
    public String sentence(String exchangeId) {
      return problem + "; the proxy's log has the details under exchange " + exchangeId + ".";
    }
  }

  private ClientSentences() {}

  /** The kind of client sentence for a failure an agent reported. */
  public static Kind of(Failure failure) {
    switch (failure) {
      case BACKEND_TIMEOUT:
        return Kind.BACKEND_TIMEOUT;
      case BAD_BACKEND_RESPONSE:
        return Kind.BAD_BACKEND_RESPONSE;
      case AGENT_DRAINING:
        return Kind.AGENT_DRAINING;
      case BACKEND_UNREACHABLE:
      default:
        return Kind.BACKEND_UNREACHABLE;
    }
  }
}
