/**
 * What the client, agent and admin packages share: the listener that starts the tunnel and drains
 * it, the {@link Handoff} threads and their lanes, the tunnel lookup and short answers of
 * {@link Responses}, and the relays' buffered reads ({@link BufferReads}).
 */
package dev.drawbridge.proxy.web;
