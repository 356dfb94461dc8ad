package dev.drawbridge.proxy.web.agent;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Hears the container end an agent's call: an error on its connection that no read or write
 * listener saw (Tomcat reports a connection the agent closed this way when nothing was being read
 * or written), or the timeout a stopping container gives every held request. The relay's handler
 * runs on the call's own thread, inside the container's handling, and completes the call there,
 * so the container never has to end it itself (Tomcat then recycles the request forcedly, and
 * logs it).
 */
public final class AgentCallBroken implements AsyncListener {

  private final Runnable broke;

  AgentCallBroken(Runnable broke) {
    this.broke = broke;
  }

  /** Completes an agent's call; one the container already ended is left as it is. */
  public static void complete(AsyncContext agentCall) {
    try {
      agentCall.complete();
    } catch (IllegalStateException e) {
      // The container already ended the agent's call.
    }
  }

  /** Completes an agent's call with {@code status} when nothing of its answer was sent yet. */
  public static void complete(AsyncContext agentCall, int status) {
    try {
      HttpServletResponse response = (HttpServletResponse) agentCall.getResponse();
      if (!response.isCommitted()) {
        response.setStatus(status);
      }
    } catch (IllegalStateException e) {
      // The container already ended the agent's call; complete says so too.
    }
    complete(agentCall);
  }

  @Override
  public void onError(AsyncEvent event) {
    broke.run();
  }

  @Override
  public void onTimeout(AsyncEvent event) {
    broke.run();
  }

  @Override
  public void onComplete(AsyncEvent event) {
    // Ended normally, by the relay.
  }

  @Override
  public void onStartAsync(AsyncEvent event) {
    // Never restarted.
  }
}
