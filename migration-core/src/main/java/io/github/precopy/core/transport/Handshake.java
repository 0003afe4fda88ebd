package io.github.precopy.core.transport;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * The exchange that opens every connection of a migration, after TLS's handshake where there is
 * one: the source says hello with 8 bytes, {@code "PRECOPYH"}, and the destination answers {@code
 * "PRECOPYA"}. The answer proves to the source that it reached a precopy destination that took the
 * connection; with TLS 1.3 it is also how a client learns at once that its certificate was refused,
 * since it reads the alert instead of the answer.
 */
final class Handshake {

  /** {@code "PRECOPYH"}: what a source sends first on each connection. */
  static final long HELLO = 0x505245434F505948L;

  /** {@code "PRECOPYA"}: the destination's answer to {@link #HELLO}. */
  static final long GREETING = 0x505245434F505941L;

  private Handshake() {}

  /**
   * The source's side: says hello and reads the answer.
   *
   * @return whether the answer is the precopy greeting
   * @throws EOFException if the destination closed the connection before answering
   * @throws IOException if the transport failed (a read that timed out throws {@link
   *     java.net.SocketTimeoutException})
   */
  static boolean sayHello(OutputStream out, InputStream in) throws IOException {
    out.write(ByteBuffer.allocate(Long.BYTES).putLong(HELLO).array());
    out.flush();
    return new DataInputStream(in).readLong() == GREETING;
  }

  /**
   * The destination's side: reads the hello and answers it.
   *
   * @param tls whether the connection is TLS, for the message when a plain source meets a TLS one
   * @throws IOException if the peer closed before saying hello or said something else
   */
  static void answerHello(InputStream in, OutputStream out, boolean tls) throws IOException {
    long hello;
    try {
      hello = new DataInputStream(in).readLong();
    } catch (EOFException e) {
      throw new IOException("closed before saying hello", e);
    }
    if (hello != HELLO) {
      throw new IOException(
          "not a precopy source: it said 0x"
              + Long.toHexString(hello)
              + (tls ? "" : " (is it using TLS?)"));
    }
    out.write(ByteBuffer.allocate(Long.BYTES).putLong(GREETING).array());
    out.flush();
  }
}
