/**
 * What the client, agent and admin packages share: the listener that starts the tunnel and drains
 * it, the {@link Handoff} threads and their lanes, and the tunnel lookup and short answers of
 * {@link Responses}.
 */
package dev.drawbridge.proxy.web;
