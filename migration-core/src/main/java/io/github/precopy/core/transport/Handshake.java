package io.github.precopy.core.transport;

import io.github.precopy.core.stream.StreamFormat;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * The exchange that opens every connection of a migration, after TLS's handshake where there is
 * one. All integers are big-endian.
 *
 * <pre>
 * source → destination, the hello (12 bytes):
 *   magic      8 bytes "PRECOPYH"
 *   channel    be16    this connection's channel index, 0-based
 *   channels   be16    the source's channel count, 1..64
 * destination → source, one of:
 *   greeting   8 bytes "PRECOPYA": the connection is taken; the stream follows
 *   refusal    8 bytes "PRECOPYN", then (6 bytes):
 *     reason   be16    1: the channel counts differ; 2: this destination takes only TLS
 *     source   be16    the source's channel count, as its hello said (0 for reason 2)
 *     expected be16    the destination's channel count
 * </pre>
 *
 * <p>The greeting proves to the source that it reached a precopy destination that took the
 * connection; with TLS 1.3 it is also how a client learns at once that its certificate was refused,
 * since it reads the alert instead of the answer. A refusal names its reason so that both ends say
 * the same thing: a source whose channel count differs learns it on its first connection, and the
 * destination fails at once instead of waiting for channels that will never come. A destination set
 * up for TLS refuses a plain source with reason 2, in plain text, before any TLS; it cannot tell a
 * TLS source that it is plain, since the source then reads only TLS records, so it just closes the
 * connection. Anything else (a wrong magic, a channel index not below its count, a count out of
 * range) is not a precopy source; the destination closes the connection without an answer.
 */
final class Handshake {

  /** {@code "PRECOPYH"}: what a source sends first on each connection. */
  static final long HELLO = 0x505245434F505948L;

  /** {@code "PRECOPYA"}: the destination's answer when it takes the connection. */
  static final long GREETING = 0x505245434F505941L;

  /** {@code "PRECOPYN"}: the destination's answer when it refuses the connection. */
  static final long REFUSAL = 0x505245434F50594EL;

  /** Bytes of a hello. */
  static final int HELLO_BYTES = 12;

  /** Refusal reason: the source's channel count is not the destination's. */
  static final int CHANNEL_COUNT = 1;

  /** Refusal reason: the destination takes only TLS connections. */
  static final int TLS_REQUIRED = 2;

  /** The first byte of a TLS record that carries a handshake message, such as a ClientHello. */
  private static final int TLS_HANDSHAKE_RECORD = 0x16;

  private Handshake() {}

  /** What a source's hello says. */
  record Hello(int channel, int channels) {}

  /**
   * The destination's answer to a hello.
   *
   * @param greeted whether it took the connection
   * @param refusal why it refused, in the source's words, or null if it greeted or its answer was
   *     not precopy's
   */
  record Answer(boolean greeted, String refusal) {}

  /**
   * The source's side: says hello as channel {@code channel} of {@code channels} and reads the
   * answer.
   *
   * @return the answer; neither greeted nor refused if it is not a precopy destination's
   * @throws EOFException if the destination closed the connection before answering
   * @throws IOException if the transport failed (a read that timed out throws {@link
   *     java.net.SocketTimeoutException})
   */
  static Answer sayHello(OutputStream out, InputStream in, int channel, int channels)
      throws IOException {
    out.write(
        ByteBuffer.allocate(HELLO_BYTES)
            .putLong(HELLO)
            .putShort((short) channel)
            .putShort((short) channels)
            .array());
    out.flush();
    DataInputStream data = new DataInputStream(in);
    long answer = data.readLong();
    if (answer == GREETING) {
      return new Answer(true, null);
    }
    if (answer != REFUSAL) {
      return new Answer(false, null);
    }
    int reason = data.readUnsignedShort();
    int source = data.readUnsignedShort();
    int expected = data.readUnsignedShort();
    return new Answer(
        false,
        switch (reason) {
          case CHANNEL_COUNT -> channelMismatch(source, expected);
          case TLS_REQUIRED -> "it takes only mutual TLS, and this source connects without TLS";
          default -> "reason " + reason + ", which this source does not know";
        });
  }

  /**
   * The destination's side: reads a hello. Answer it with {@link #greet} or a refusal.
   *
   * @param tls whether the connection is TLS, for the message when a TLS source meets a plain one
   * @throws IOException if the peer closed before saying hello or said something else
   */
  static Hello readHello(InputStream in, boolean tls) throws IOException {
    byte[] bytes = new byte[HELLO_BYTES];
    try {
      new DataInputStream(in).readFully(bytes);
    } catch (EOFException e) {
      throw new IOException("closed before saying hello", e);
    }
    return parseHello(bytes, tls);
  }

  /** Checks a hello read whole; as {@link #readHello}. */
  static Hello parseHello(byte[] bytes, boolean tls) throws IOException {
    ByteBuffer hello = ByteBuffer.wrap(bytes);
    long magic = hello.getLong();
    if (magic != HELLO) {
      throw new IOException(
          "not a precopy source: it said 0x"
              + Long.toHexString(magic)
              + (tls || (bytes[0] & 0xFF) != TLS_HANDSHAKE_RECORD
                  ? ""
                  : " (it began a TLS handshake; this destination is plain)"));
    }
    int channel = Short.toUnsignedInt(hello.getShort());
    int channels = Short.toUnsignedInt(hello.getShort());
    if (channels < 1 || channels > StreamFormat.MAX_CHANNELS || channel >= channels) {
      throw new IOException(
          "not a precopy source: its hello names channel "
              + channel
              + " of "
              + channels
              + ", not a channel of 1 to "
              + StreamFormat.MAX_CHANNELS);
    }
    return new Hello(channel, channels);
  }

  /** Whether {@code firstByte} may start a hello: a plain precopy source at a TLS destination. */
  static boolean mayStartHello(int firstByte) {
    return firstByte == (int) (HELLO >>> 56);
  }

  /** The destination takes the connection. */
  static void greet(OutputStream out) throws IOException {
    out.write(ByteBuffer.allocate(Long.BYTES).putLong(GREETING).array());
    out.flush();
  }

  /** The destination refuses a source whose channel count is not {@code expected}. */
  static void refuseChannelCount(OutputStream out, int source, int expected) throws IOException {
    refuse(out, CHANNEL_COUNT, source, expected);
  }

  /** A TLS destination refuses a plain precopy source, in plain text. */
  static void refuseWithoutTls(OutputStream out, int expected) throws IOException {
    refuse(out, TLS_REQUIRED, 0, expected);
  }

  private static void refuse(OutputStream out, int reason, int source, int expected)
      throws IOException {
    out.write(
        ByteBuffer.allocate(Long.BYTES + 6)
            .putLong(REFUSAL)
            .putShort((short) reason)
            .putShort((short) source)
            .putShort((short) expected)
            .array());
    out.flush();
  }

  /** The sentence both ends say when the channel counts differ. */
  static String channelMismatch(int source, int expected) {
    return "the source uses "
        + source
        + (source == 1 ? " channel" : " channels")
        + ", this destination expects "
        + expected;
  }
}
