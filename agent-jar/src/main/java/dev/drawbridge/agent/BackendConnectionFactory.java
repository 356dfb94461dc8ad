package dev.drawbridge.agent;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hc.client5.http.impl.io.DefaultManagedHttpClientConnection;
import org.apache.hc.client5.http.io.ManagedHttpClientConnection;
import org.apache.hc.core5.http.impl.io.SocketHolder;
import org.apache.hc.core5.http.io.HttpConnectionFactory;

/**
 * Makes the backend leg's connections: HttpClient's own, with two additions for a service that
 * answers a request before it has read the body (a 401 or 413 to an upload). {@link
 * EarlyResponseWatch} stops the body once the answer is there. And when the service closed the
 * connection right after answering, so that sending the body fails before the answer is seen, the
 * answer is read all the same: on a plain connection a write that fails while an answer is waiting
 * ends the body instead of the exchange, as curl and browsers do, and the connection is not used
 * again. (The system keeps what arrived before a reset readable.)
 */
final class BackendConnectionFactory implements HttpConnectionFactory<ManagedHttpClientConnection> {

  static final BackendConnectionFactory INSTANCE = new BackendConnectionFactory();

  private static final AtomicLong COUNT = new AtomicLong();

  private BackendConnectionFactory() {}

  @Override
  public ManagedHttpClientConnection createConnection(Socket socket) throws IOException {
    Connection connection = new Connection("backend-" + COUNT.incrementAndGet());
    if (socket != null) {
      connection.bind(socket);
    }
    return connection;
  }

  private static final class Connection extends DefaultManagedHttpClientConnection {

    private volatile AnswerAwareOutput output;

    Connection(String id) {
      super(id, null, null, null, null, null, EarlyResponseWatch.INSTANCE, null, null);
    }

    @Override
    public void bind(Socket socket) throws IOException {
      bind(new SocketHolder(socket) {
        @Override
        protected OutputStream getOutputStream(Socket plain) throws IOException {
          AnswerAwareOutput answerAware = new AnswerAwareOutput(plain.getOutputStream(), plain.getInputStream());
          output = answerAware;
          return answerAware;
        }
      });
    }

    /** Not after a body was cut short: the service never got all of it, the connection is spent. */
    @Override
    public boolean isConsistent() {
      AnswerAwareOutput current = output;
      return super.isConsistent() && (current == null || !current.dropping());
    }
  }

  /**
   * A socket's output that, when a write fails and the service's answer is already waiting to be
   * read, drops what is written from then on instead of failing, so HttpClient goes on to read the
   * answer.
   */
  static final class AnswerAwareOutput extends FilterOutputStream {

    private final InputStream answers;
    private volatile boolean dropping;

    AnswerAwareOutput(OutputStream out, InputStream answers) {
      super(out);
      this.answers = answers;
    }

    boolean dropping() {
      return dropping;
    }

    @Override
    public void write(int b) throws IOException {
      if (!dropping) {
        try {
          out.write(b);
        } catch (IOException e) {
          dropIfAnswered(e);
        }
      }
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      if (!dropping) {
        try {
          out.write(bytes, offset, length);
        } catch (IOException e) {
          dropIfAnswered(e);
        }
      }
    }

    @Override
    public void flush() throws IOException {
      if (!dropping) {
        try {
          out.flush();
        } catch (IOException e) {
          dropIfAnswered(e);
        }
      }
    }

    private void dropIfAnswered(IOException failure) throws IOException {
      int waiting;
      try {
        waiting = answers.available();
      } catch (IOException e) {
        failure.addSuppressed(e);
        throw failure;
      }
      if (waiting <= 0) {
        throw failure;
      }
      dropping = true;
    }
  }
}
