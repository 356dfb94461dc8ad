package dev.drawbridge.proxy.config;

import dev.drawbridge.proxy.route.AddressRules;
import java.util.List;

/**
 * One validated route: which requests it takes ({@code host}, {@code pathPrefix}), where they go
 * ({@code backend}) and what a client must pass first (roles, addresses, rate).
 *
 * @param host lowercase exact host, or {@code *.suffix} matching one or more labels before the
 *     suffix; null matches every host
 * @param pathPrefix segment-aware path prefix without a trailing slash ({@code /} matches all);
 *     null matches every path
 * @param stripPrefix remove the prefix from the target sent to the backend
 * @param backend id of the backend serving the route
 * @param requireRoles roles of the container's realm, one of which the client must hold; empty
 *     means no login
 * @param forwardCredentials forward the client's Authorization header the proxy consumed
 * @param addresses client address allow and deny lists
 * @param ratePerSecond sustained requests per second per client address; 0 = no limit
 * @param rateBurst requests a client address may make at once before the rate applies
 * @param upgrades relay protocol switches (WebSockets) on this route
 */
public record RouteSettings(
    String host,
    String pathPrefix,
    boolean stripPrefix,
    String backend,
    List<String> requireRoles,
    boolean forwardCredentials,
    AddressRules addresses,
    double ratePerSecond,
    int rateBurst,
    boolean upgrades) {

  /** True when the route limits how often one client address may call it. */
  public boolean rateLimited() {
    return ratePerSecond > 0;
  }

  /** How the route is named in log lines and errors: its host and prefix. */
  public String describe() {
    return (host == null ? "*" : host) + (pathPrefix == null ? "" : pathPrefix) + " -> " + backend;
  }
}
