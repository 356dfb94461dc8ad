/**
 * The agent's calls under {@code /_drawbridge/agent/v1}: the poll, an exchange's request-body and
 * response calls and the response batch, each checked by {@link AgentCaller} first, and the relays
 * that carry a body between an agent's call and its client's connection. Only agents call them.
 */
package dev.drawbridge.proxy.web.agent;
