package dev.drawbridge.proxy.web.client;

import dev.drawbridge.proxy.config.ProxySettings;
import dev.drawbridge.proxy.config.RouteSettings;
import dev.drawbridge.proxy.http.ClientAddress;
import dev.drawbridge.proxy.route.RateLimiter;
import dev.drawbridge.proxy.route.Router;
import dev.drawbridge.proxy.web.Responses;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * What a client must pass before its request is queued: a route (404, or 400 for a dot segment),
 * the route's address lists (403), its rate limit (429) and its roles (401/403, through the
 * container's own login so any realm works). Cheap checks run first, so a flood never reaches the
 * realm.
 */
final class ClientGate {

  private static final Logger LOG = Logger.getLogger(ClientGate.class.getName());

  /** Realm named in the fallback challenge; the WAR's web.xml declares BASIC with this realm. */
  static final String CHALLENGE_REALM = "Drawbridge";

  private final ProxySettings settings;
  private final Router router;
  private final java.util.Set<String> trustedProxies;
  private final Map<RouteSettings, RateLimiter> limiters = new IdentityHashMap<>();

  ClientGate(ProxySettings settings) {
    this.settings = settings;
    this.router = new Router(settings.routes(), settings.defaultBackend().id());
    this.trustedProxies = java.util.Set.copyOf(settings.trustedProxies());
    for (RouteSettings route : settings.routes()) {
      if (route.rateLimited()) {
        limiters.put(route, new RateLimiter(route.ratePerSecond(), route.rateBurst(), RateLimiter.DEFAULT_MAX_CLIENTS, System::nanoTime));
      }
    }
  }

  /** The configuration this gate was built from; a reload builds a new gate. */
  ProxySettings settings() {
    return settings;
  }

  /** The route for this request, or null after an error answer was sent. */
  Router.Routed admit(HttpServletRequest clientRequest, HttpServletResponse clientResponse, String target)
      throws IOException {
    Router.Decision decision = router.decide(clientRequest.getServerName(), target);
    if (decision instanceof Router.NoRoute) {
      Responses.text(clientResponse, 404, "No route of this proxy matches this host and path.");
      return null;
    }
    if (decision instanceof Router.AboveRoot) {
      Responses.text(clientResponse, 400, "The request path climbs above the root with a '..' segment.");
      return null;
    }
    Router.Routed routed = (Router.Routed) decision;
    RouteSettings route = routed.route();
    if (route == null) {
      return routed;
    }
    String client = clientAddress(clientRequest);
    if (!route.addresses().permits(client)) {
      Responses.text(clientResponse, 403, "Requests from your address are not allowed on this path.");
      return null;
    }
    RateLimiter limiter = limiters.get(route);
    long retryAfter = limiter == null ? 0 : limiter.acquire(client);
    if (retryAfter > 0) {
      clientResponse.setHeader("Retry-After", Long.toString(retryAfter));
      Responses.text(clientResponse, 429, "Too many requests from your address; retry after " + retryAfter + " s.");
      return null;
    }
    if (!route.requireRoles().isEmpty() && !hasRole(clientRequest, clientResponse, route)) {
      return null;
    }
    return routed;
  }

  /** The client's address: the direct peer, or behind trusted proxies the forwarded one. */
  String clientAddress(HttpServletRequest clientRequest) {
    return ClientAddress.resolve(
        clientRequest.getRemoteAddr(),
        java.util.Collections.list(clientRequest.getHeaders("X-Forwarded-For")),
        trustedProxies);
  }

  private static boolean hasRole(HttpServletRequest clientRequest, HttpServletResponse clientResponse, RouteSettings route)
      throws IOException {
    if (clientRequest.getUserPrincipal() == null) {
      boolean authenticated;
      try {
        // The container's login: when false it has usually sent its own challenge already.
        authenticated = clientRequest.authenticate(clientResponse);
      } catch (ServletException e) {
        LOG.fine(() -> "Client login failed on route " + route.describe() + ": " + e.getMessage());
        authenticated = false;
      }
      if (!authenticated || clientRequest.getUserPrincipal() == null) {
        // Some containers (Jetty 12) answer false without writing a challenge; never let that pass as 200.
        if (!clientResponse.isCommitted() && clientResponse.getStatus() < 400) {
          clientResponse.setHeader("WWW-Authenticate", "Basic realm=\"" + CHALLENGE_REALM + "\"");
          Responses.text(clientResponse, 401, "Sign in to use this path.");
        }
        return false;
      }
    }
    for (String role : route.requireRoles()) {
      if (clientRequest.isUserInRole(role)) {
        return true;
      }
    }
    Responses.text(clientResponse, 403, "You are signed in but hold no role this path requires.");
    return false;
  }
}
