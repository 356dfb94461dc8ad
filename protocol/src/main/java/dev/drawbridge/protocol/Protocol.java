package dev.drawbridge.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * Names of the agent protocol, defined once for both sides.
 *
 * <p>All agent endpoints live under {@link #AGENT_BASE}, relative to the proxy's context path. Every
 * agent call carries {@code Authorization: Bearer <token>}, {@link #AGENT_ID_HEADER} and {@link
 * #PROTOCOL_HEADER}. docs/protocol.md describes each call with its status codes.
 */
public final class Protocol {

  /** Version of the agent protocol this build speaks; a proxy refuses agents that speak another. */
  public static final int VERSION = 1;

  /** Path prefix, under the proxy's context path, that is never forwarded to a backend. */
  public static final String RESERVED_PREFIX = "/_drawbridge";

  /** Base path of the agent API for this protocol version. */
  public static final String AGENT_BASE = RESERVED_PREFIX + "/agent/v" + VERSION;

  /** Long-poll for work: {@code POST AGENT_BASE/poll?backend=ID&max=N} answers a {@link PollResult}. */
  public static final String POLL_PATH = AGENT_BASE + "/poll";

  /** Prefix of the per-exchange calls: {@code AGENT_BASE/exchanges/{id}/...}. */
  public static final String EXCHANGES_PATH = AGENT_BASE + "/exchanges/";

  /** Suffix of {@code GET .../exchanges/{id}/request-body}: the client's body as body frames. */
  public static final String REQUEST_BODY_SUFFIX = "/request-body";

  /** Suffix of {@code POST .../exchanges/{id}/response}: a head frame then body frames. */
  public static final String RESPONSE_SUFFIX = "/response";

  /**
   * Complete small responses of several exchanges in one call: {@code POST
   * AGENT_BASE/responses?backend=ID} with a batch of {@link Frames#RESPONSE} frames then an end
   * frame. Answers 204 when every one reached its exchange, else 200 with a {@link BatchAnswer}.
   */
  public static final String RESPONSES_PATH = AGENT_BASE + "/responses";

  /** Query parameter of a poll naming the backend the agent serves. */
  public static final String BACKEND_PARAM = "backend";

  /** Query parameter of a poll giving how many exchanges the agent can take now (at least 1). */
  public static final String MAX_PARAM = "max";

  /** Request header: the agent's self-chosen id, stable for the life of the agent process. */
  public static final String AGENT_ID_HEADER = "Drawbridge-Agent-Id";

  /**
   * Request header: a random id each agent process draws when it starts, the same on all its calls.
   * The agent id is a name an operator may reuse (a fixed {@code --agent-id} in a service unit); the
   * instance tells the proxy that a new process took over that name, so it ends the previous one at
   * once instead of waiting for it to fall silent. Optional: agents without it are told apart by
   * their agent id alone.
   */
  public static final String AGENT_INSTANCE_HEADER = "Drawbridge-Agent-Instance";

  /** Request header: the agent's software version, shown to operators. */
  public static final String AGENT_VERSION_HEADER = "Drawbridge-Agent-Version";

  /** Request and response header: the protocol version the sender speaks. */
  public static final String PROTOCOL_HEADER = "Drawbridge-Protocol";

  /** Poll request header: {@link #BACKEND_DOWN} while the agent's health check finds the backend unreachable. */
  public static final String BACKEND_HEALTH_HEADER = "Drawbridge-Backend-Health";

  /**
   * Poll request header: {@code true} when the agent is shutting down. The proxy answers at once,
   * drops the agent's held polls and delivers it nothing more; exchanges in flight continue.
   */
  public static final String AGENT_LEAVING_HEADER = "Drawbridge-Agent-Leaving";

  /**
   * Poll request header: the proxy nodes the agent is attached to, as comma-separated {@code
   * node=state} entries (e.g. {@code edge.example.com/10.0.0.5:443=connected,
   * edge.example.com/10.0.0.6:443=failing}). Only shown to operators: each node lists the agent with
   * the nodes it reports, so a node the agent cannot reach shows on every other node's admin page.
   * Optional.
   */
  public static final String AGENT_NODES_HEADER = "Drawbridge-Agent-Nodes";

  /**
   * Poll request header: the optional protocol features the agent supports, comma-separated. The
   * proxy hands an agent only work it declared it can do, so agents older than a feature keep
   * working and never see it.
   */
  public static final String AGENT_FEATURES_HEADER = "Drawbridge-Agent-Features";

  /**
   * Feature: the agent relays upgraded connections. An exchange whose {@link RequestHead#upgrade()}
   * is set is one: the agent sends the handshake to the backend itself and always answers with a
   * streamed response call (never in a batch). On a {@code 101} head the response call's data
   * frames carry the backend's bytes after the switch, and the request-body call's data frames the
   * client's bytes; each direction ends with an end frame when its sender closed cleanly, or an
   * abort frame, and the connection ends when either direction ends.
   */
  public static final String FEATURE_UPGRADE = "upgrade";

  /**
   * Feature: the agent reads a streamed poll. A proxy that knows it answers such a poll (with a
   * {@code max} of 1 or more) with {@link #POLL_STREAM_TYPE}: the response stays open and carries
   * each answer the moment there is one, as {@link PollUnits}, until it has handed over {@code max}
   * exchanges, the poll wait ends, the proxy drains or the agent leaves. A proxy that does not know
   * it answers with one {@link PollResult} as always.
   */
  public static final String FEATURE_POLL_STREAM = "poll-stream";

  /**
   * Feature: the agent reads {@link Frames#KEEPALIVE} frames in the streams the proxy sends it. In
   * {@link #PROXY_FEATURES_HEADER}, the proxy's: it reads them in the streams the agent sends it.
   * Each side sends them only to a peer that declared the feature, so older peers never see one.
   */
  public static final String FEATURE_KEEPALIVE = "keepalive";

  /**
   * Poll response header: the optional protocol features the proxy supports, comma-separated. An
   * agent uses a feature only with a proxy node that declared it; a proxy older than this header
   * declares none.
   */
  public static final String PROXY_FEATURES_HEADER = "Drawbridge-Proxy-Features";

  /**
   * Response header of a streamed poll: the milliseconds within which the agent must make a call
   * (any call) after it took work from the stream. A plain poll's agent calls again at once; a
   * stream's agent calls to answer its work, and when that takes longer it sends an {@link
   * #AGENT_ALIVE_HEADER} call in time, or the proxy counts it as lost.
   */
  public static final String CALL_WITHIN_HEADER = "Drawbridge-Call-Within";

  /**
   * Poll request header: {@code true} on a call that only shows the agent is alive. The proxy
   * answers 204 at once and hands it nothing.
   */
  public static final String AGENT_ALIVE_HEADER = "Drawbridge-Agent-Alive";

  /**
   * Request and response header of a streamed response batch. The agent sends {@link
   * #STREAM_OPEN} on a {@code /responses} call whose body it keeps open, writing each response the
   * moment it is whole, until the stream has been quiet or open long enough (then the end frame).
   * The proxy hands over each response as its frame arrives, as for every batch, and answers such
   * a call with {@link #STREAM_PASSED} when the body reached it in pieces as sent (chunked), or
   * {@link #STREAM_HELD} when it came with a length: something on the way collected it whole, and
   * would hold every response in it back until the stream ended. A proxy that does not know the
   * header answers without it; the agent then sends plain batches.
   */
  public static final String RESPONSE_STREAM_HEADER = "Drawbridge-Response-Stream";

  /** Value of {@link #RESPONSE_STREAM_HEADER} on the agent's streamed batch. */
  public static final String STREAM_OPEN = "open";

  /** Value of {@link #RESPONSE_STREAM_HEADER} in the answer: the stream arrived as it was written. */
  public static final String STREAM_PASSED = "passed";

  /** Value of {@link #RESPONSE_STREAM_HEADER} in the answer: the stream arrived collected whole. */
  public static final String STREAM_HELD = "held";

  /**
   * The least time a proxy gives a streamed response batch before it counts it as stalled (its
   * idle timeout, when that is longer). An agent ends each stream well within it.
   */
  public static final int STREAM_TIMEOUT_SECONDS = 30;

  /** Value of {@link #BACKEND_HEALTH_HEADER} saying the backend is down; absent means up. */
  public static final String BACKEND_DOWN = "down";

  /** Response header on agent calls: the proxy's software version. */
  public static final String PROXY_VERSION_HEADER = "Drawbridge-Proxy-Version";

  /** Response header on client requests: the exchange id, to find the request in both sides' logs. */
  public static final String EXCHANGE_ID_HEADER = "Drawbridge-Exchange-Id";

  /** Content type of poll results. */
  public static final String JSON_TYPE = "application/json";

  /** Content type of a streamed poll's answer: {@link PollUnits}, one after another. */
  public static final String POLL_STREAM_TYPE = "application/vnd.drawbridge.poll-stream";

  /** Content type of framed streams (request bodies to the agent, responses from the agent). */
  public static final String FRAMES_TYPE = "application/vnd.drawbridge.frames";

  /** Software version of this build, read from the jar. */
  public static final String SOFTWARE_VERSION = readVersion();

  private Protocol() {}

  /** True when {@code features}, a comma-separated list of features or null, names {@code feature}. */
  public static boolean declares(String features, String feature) {
    if (features == null) {
      return false;
    }
    for (String part : features.split(",")) {
      if (part.trim().equalsIgnoreCase(feature)) {
        return true;
      }
    }
    return false;
  }

  /** Path of an exchange call, e.g. {@code exchangePath("abc", RESPONSE_SUFFIX)}. */
  public static String exchangePath(String exchangeId, String suffix) {
    return EXCHANGES_PATH + exchangeId + suffix;
  }

  private static String readVersion() {
    Properties properties = new Properties();
    try (InputStream in = Protocol.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return properties.getProperty("version", "unknown");
  }
}
