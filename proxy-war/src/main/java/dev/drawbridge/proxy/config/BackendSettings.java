package dev.drawbridge.proxy.config;

import java.time.Duration;
import java.util.List;

/** Validated settings of one backend. */
public record BackendSettings(
    String id,
    List<byte[]> agentTokenSha256,
    int maxQueued,
    Duration queueTimeout,
    Duration responseTimeout,
    int maxInFlight,
    boolean upgrades,
    int maxUpgraded) {}
