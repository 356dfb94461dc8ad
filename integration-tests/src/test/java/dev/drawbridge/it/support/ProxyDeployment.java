package dev.drawbridge.it.support;

import java.nio.file.Path;

/**
 * What a container is asked to run: the WAR from {@link BuiltArtifacts}, this config file (or none,
 * as on a first run), this work directory (kept across restarts), on this port (0: the OS picks).
 */
record ProxyDeployment(Path configFile, Path workDir, int port, ProxyServer.Options options) {}
