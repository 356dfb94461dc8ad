package dev.drawbridge.agent;

import java.util.List;
import java.util.logging.Level;

/** What the command line asks for. */
sealed interface Command {

  /** {@code --help}. */
  record Help() implements Command {}

  /** {@code --version}. */
  record Version() implements Command {}

  /** {@code new-token}: print a fresh token and its digest. */
  record NewToken() implements Command {}

  /** Run one agent per config (one per served backend), logging at {@code logLevel}. */
  record Run(List<AgentConfig> configs, Level logLevel) implements Command {

    public Run {
      configs = List.copyOf(configs);
      if (configs.isEmpty()) {
        throw new IllegalArgumentException("at least one backend to serve");
      }
    }

    /** The first (with --backend/--target, the only) config. */
    AgentConfig config() {
      return configs.get(0);
    }
  }
}
