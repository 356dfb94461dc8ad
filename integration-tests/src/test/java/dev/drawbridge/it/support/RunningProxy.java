package dev.drawbridge.it.support;

/** The proxy WAR running in one container; what {@link ProxyServer} needs of either container. */
interface RunningProxy {

  /** The port the OS gave the connector (or the port asked for, on a restart). */
  int port();

  /** Stops the WAR and the server as the container does at shutdown; a second call does nothing. */
  void stop();
}
