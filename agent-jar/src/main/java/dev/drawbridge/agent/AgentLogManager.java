package dev.drawbridge.agent;

import java.util.logging.LogManager;

/**
 * A LogManager whose {@code reset()} keeps the handlers. The JDK's own shutdown hook resets logging
 * while other hooks still run, which would swallow the drain messages of {@link Main}'s hook; the
 * agent's handler flushes every record, so nothing is lost by never closing it. Installed by
 * {@link Main} through the {@code java.util.logging.manager} system property.
 */
public final class AgentLogManager extends LogManager {

  @Override
  public void reset() {
    // Intentionally empty: see the class comment.
  }
}
