package dev.drawbridge.it.support;

import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * How the {@link Backend} answers one request; ready-made ones are in {@link Responders}. The
 * request body has already been read into {@code request}. A responder completes {@code callback}
 * when done, fails it to abort the response, or never completes it to stall.
 */
@FunctionalInterface
public interface Responder {

  void respond(RecordedRequest request, Response response, Callback callback) throws Exception;
}
