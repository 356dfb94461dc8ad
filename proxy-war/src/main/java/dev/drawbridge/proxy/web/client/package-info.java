/**
 * What a client's request meets: the servlet that takes every request for a backend and holds it
 * for an agent, the client's side of an exchange ({@link ServletClientLeg}), and the handshake and
 * relay of an upgraded connection (a WebSocket, {@link UpgradeRelay}). Clients call these classes;
 * an agent's calls reach a client only through those two.
 */
package dev.drawbridge.proxy.web.client;
