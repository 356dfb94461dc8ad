package dev.drawbridge.agent;

import java.util.logging.Level;

/** What the command line asks for. */
sealed interface Command {

  /** {@code --help}. */
  record Help() implements Command {}

  /** {@code --version}. */
  record Version() implements Command {}

  /** Run the agent with {@code config}, logging at {@code logLevel}. */
  record Run(AgentConfig config, Level logLevel) implements Command {}
}
