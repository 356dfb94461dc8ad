package dev.drawbridge.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The agents of one process, one per served backend ({@code --route}), each with its own polls,
 * worker slots and connections, so a slow backend cannot starve another. They start, drain and
 * fail together.
 */
final class AgentGroup {

  private final List<Agent> agents = new ArrayList<>();

  AgentGroup(List<AgentConfig> configs) {
    try {
      for (AgentConfig config : configs) {
        agents.add(new Agent(config));
      }
    } catch (RuntimeException e) {
      agents.forEach(Agent::close);
      throw e;
    }
  }

  void start() {
    agents.forEach(Agent::start);
  }

  /** Drains every agent at once, so the drain timeout is not multiplied; returns how many finished. */
  int drain() {
    List<CompletableFuture<Integer>> drains = new ArrayList<>();
    for (Agent agent : agents) {
      drains.add(CompletableFuture.supplyAsync(agent::drain, runnable -> new Thread(runnable, "drawbridge-drain").start()));
    }
    return drains.stream().mapToInt(CompletableFuture::join).sum();
  }

  /** Blocks until one of the agents fails unrecoverably, and returns its failure. */
  Throwable awaitFatal() throws InterruptedException {
    List<CompletableFuture<Throwable>> watches = new ArrayList<>();
    for (Agent agent : agents) {
      CompletableFuture<Throwable> watch = new CompletableFuture<>();
      Thread thread = new Thread(() -> {
        try {
          watch.complete(agent.awaitFatal());
        } catch (InterruptedException e) {
          watch.completeExceptionally(e);
        }
      }, "drawbridge-fatal-watch-" + agent.config().backend());
      thread.setDaemon(true);
      thread.start();
      watches.add(watch);
    }
    try {
      return (Throwable) CompletableFuture.anyOf(watches.toArray(new CompletableFuture<?>[0])).get();
    } catch (java.util.concurrent.ExecutionException e) {
      throw new InterruptedException("interrupted while watching the agents");
    }
  }
}
