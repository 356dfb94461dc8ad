/**
 * What operators, load balancers and Prometheus call: the admin page and its JSON API (status,
 * reload, drain), the health and readiness checks, and the metrics. The container's security
 * guards the admin calls and the metrics (see web.xml); health and readiness need no login.
 */
package dev.drawbridge.proxy.web.admin;
