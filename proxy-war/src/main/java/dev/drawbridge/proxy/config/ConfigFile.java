package dev.drawbridge.proxy.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The proxy's JSON configuration file as written by an operator. Each field starts at its default;
 * {@link ConfigLoader} validates the whole and turns it into {@link ProxySettings}. Field names are
 * the configuration keys, so they stay camelCase and listed in docs/configuration.md,
 * which DocumentedKeysTest holds to these fields.
 */
public class ConfigFile {

  /** Backends the proxy publishes; without a file, one backend {@code default}. */
  public List<BackendEntry> backends = new ArrayList<>();

  /** Seconds an agent poll is held when there is no work. */
  public int pollWaitSeconds = 20;

  /** Seconds past a missed poll after which an agent counts as lost. */
  public int agentGraceSeconds = 10;

  /** Largest client request body in bytes; larger ones get 413. */
  public long maxRequestBodyBytes = 100L * 1024 * 1024;

  /** Request bodies up to this many bytes travel inside the poll answer. */
  public int inlineBodyMaxBytes = 64 * 1024;

  /** Seconds a 503 answer asks the client to wait in {@code Retry-After}. */
  public int retryAfterSeconds = 5;

  /** Seconds a response stream may stay silent before the exchange is ended. */
  public int idleTimeoutSeconds = 60;

  /** Addresses whose X-Forwarded-* and Forwarded headers are trusted and extended. */
  public List<String> trustedProxies = new ArrayList<>();

  /** Name this proxy gives itself in {@code Via} headers. */
  public String via = "drawbridge";

  /**
   * Add {@code Via} to the requests the service receives too, not only to the responses clients
   * receive. Off by default, as in nginx, HAProxy and Apache: nginx behind the tunnel would take a
   * request with {@code Via} for one from a cache and, with its default {@code gzip_proxied off},
   * stop compressing. A raw JSON value, so that a string is refused rather than read as false.
   */
  public jakarta.json.JsonValue viaToService = jakarta.json.JsonValue.FALSE;

  /** Most exchanges one poll answer may carry. */
  public int maxPollBatch = 32;

  /**
   * Re-queue once an idempotent request whose agent was lost before it sent or fetched anything.
   * A raw JSON value, since JSON-B would read the string "maybe" as false rather than refuse it.
   */
  public jakarta.json.JsonValue requeueOnAgentLoss = jakarta.json.JsonValue.TRUE;

  /** Seconds a response still streaming when the proxy stops may take to finish before it is cut. */
  public int drainGraceSeconds = 10;

  /**
   * Seconds a node keeps taking work after an operator's drain call while its readiness already
   * answers 503, so that the load balancer stops sending before the node stops taking.
   */
  public int drainDelaySeconds = 10;

  /** Seconds an upgraded connection (a WebSocket) may carry no byte either way before it is closed. */
  public int upgradeIdleTimeoutSeconds = 600;

  /** Seconds a protocol-switch handshake may take, queue and backend included, before 503 or 504. */
  public int upgradeHandshakeTimeoutSeconds = 20;

  /** Most handshakes waiting for the backend's answer at once, each holding a container thread. */
  public int maxUpgradeHandshakes = 64;

  /**
   * Seconds between two keepalive frames on an upgraded connection's stream to the agent while the
   * client sends nothing, so that what lies between proxy and agent does not cut it as idle.
   */
  public int upgradeKeepaliveSeconds = 5;

  /** Rules picking a backend per request, first match wins; none means the first backend takes all. */
  public List<RouteEntry> routes = new ArrayList<>();

  /** One backend entry. */
  public static class BackendEntry {

    /** Backend name, used by agents in {@code --backend}. */
    public String id;

    /** Lowercase hex SHA-256 digests of the agent tokens allowed to serve this backend. */
    public List<String> agentTokenSha256 = new ArrayList<>();

    /** Most client requests waiting for an agent; more get 503. */
    public int maxQueued = 1000;

    /** Seconds a client request may wait for an agent before 503. */
    public int queueTimeoutSeconds = 30;

    /** Seconds an agent may take to start answering before 504. */
    public int responseTimeoutSeconds = 60;

    /** Most client requests of this backend held at once, queued or at an agent; more get 503. */
    public int maxInFlight = 10_000;

    /** Relay protocol switches (WebSockets) to this backend; false refuses them with 501. */
    public boolean upgrades = true;

    /** Most upgraded connections (and handshakes) of this backend open at once; more get 503. */
    public int maxUpgraded = 1000;
  }

  /** One route; see {@link RouteSettings} for the meaning of each key. */
  public static class RouteEntry {

    /** Host the request must name: exact, or {@code *.example.com} for any subdomain; null = any. */
    public String host;

    /** Path prefix the request must start with, matched per segment; null = any path. */
    public String pathPrefix;

    /** Remove {@link #pathPrefix} from the target before it goes to the backend. */
    public boolean stripPrefix;

    /** Id of the backend that serves matching requests. */
    public String backend;

    /** Roles of the container's realm of which the client must hold one; empty = no login. */
    public List<String> requireRoles = new ArrayList<>();

    /** Forward the client's Authorization header even though the proxy authenticated it. */
    public boolean forwardCredentials;

    /** CIDR blocks a client address must be in; empty = every address. */
    public List<String> allow = new ArrayList<>();

    /** CIDR blocks refused even when allowed. */
    public List<String> deny = new ArrayList<>();

    /** Requests per second one client address may make on this route; 0 = no limit. */
    public double rateLimitPerSecond;

    /** Requests one client address may make in a burst before the rate applies. */
    public int rateLimitBurst = 0;

    /** Relay protocol switches (WebSockets) on this route; false refuses them with 501. */
    public boolean upgrades = true;
  }
}
