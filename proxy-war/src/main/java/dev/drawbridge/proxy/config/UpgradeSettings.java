package dev.drawbridge.proxy.config;

import java.time.Duration;

/**
 * Proxy-wide settings of upgraded connections (WebSockets and other HTTP Upgrades).
 *
 * @param idleTimeout how long an upgraded connection may carry no byte either way before it is
 *     closed; long, since a quiet chat is not a dead one
 * @param handshakeTimeout how long a handshake may take, queue and backend included
 * @param maxHandshakes most handshakes waiting at once; each holds a container thread, because
 *     a container switches protocols only from the request's own service call
 * @param keepaliveInterval how often an open connection's stream to the agent gets a keepalive
 *     frame, to an agent that reads them, so a quiet client does not leave it silent for long
 */
public record UpgradeSettings(Duration idleTimeout, Duration handshakeTimeout, int maxHandshakes,
    Duration keepaliveInterval) {}
