package io.github.precopy.core.transport;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * What a {@link Destination} received.
 *
 * @param completed whether the whole stream was applied: headers accepted, every channel's
 *     end-of-stream record seen with matching counts, and nothing after it; false whenever the
 *     stream failed
 * @param normalPages PAGE records applied
 * @param zeroPages ZERO records applied (QEMU's "duplicate")
 * @param encodedPages ENCODED records applied (pages a plugin's page codec encoded)
 * @param bytesRead stream bytes decoded on all channels, prelude, frame headers and end-of-stream
 *     records included
 * @param pagesVerified pages in use at the source's switch-over whose checksum the stream carried
 *     and the destination compared; 0 when the source sent no digest
 * @param mismatches pages among those whose contents differ at the destination
 * @param failure why the stream was rejected or the transport failed; when completed, the first
 *     page that differs; null if neither
 */
public record DestinationReport(
    boolean completed,
    long normalPages,
    long zeroPages,
    long encodedPages,
    long bytesRead,
    long pagesVerified,
    long mismatches,
    String failure) {

  /**
   * Whether the migration is complete and verified: the stream completed, it carried a digest, and
   * every page in use at the source's switch-over has here the CRC32C it had there.
   */
  public boolean verified() {
    return completed && pagesVerified > 0 && mismatches == 0;
  }

  /** {@code "PRECOPYR"}: the reply a destination sends back over a two-way transport. */
  private static final long REPLY_MAGIC = 0x505245434F505952L;

  /** The reply's own version: 3 since it carries the ENCODED count. */
  private static final int REPLY_VERSION = 3;

  private static final int MAX_FAILURE_BYTES = 2048;

  /**
   * Writes this report as the destination's reply: magic {@code "PRECOPYR"}, be32 version (3), u8
   * completed, be64 normal, zero, encoded, bytes read, pages verified and mismatches, be16 length
   * and UTF-8 bytes of the failure (the whole characters that fit in 2048 bytes), be32 CRC32C of
   * all of it. Flushes {@code out}.
   */
  public void writeTo(OutputStream out) throws IOException {
    ByteBuffer encoded = ByteBuffer.allocate(MAX_FAILURE_BYTES);
    if (failure != null) {
      // Whole characters only: the encoder stops before one that does not fit.
      StandardCharsets.UTF_8.newEncoder().encode(CharBuffer.wrap(failure), encoded, true);
    }
    byte[] text = encoded.array();
    int length = encoded.position();
    ByteBuffer reply = ByteBuffer.allocate(8 + 4 + 1 + 6 * 8 + 2 + length + 4);
    reply.putLong(REPLY_MAGIC).putInt(REPLY_VERSION).put((byte) (completed ? 1 : 0));
    reply.putLong(normalPages).putLong(zeroPages).putLong(encodedPages).putLong(bytesRead);
    reply.putLong(pagesVerified).putLong(mismatches);
    reply.putShort((short) length).put(text, 0, length);
    CRC32C crc = new CRC32C();
    crc.update(reply.array(), 0, reply.position());
    reply.putInt((int) crc.getValue());
    out.write(reply.array());
    out.flush();
  }

  /**
   * Reads a reply written by {@link #writeTo}.
   *
   * @throws IOException if it is not a well-formed reply, its checksum differs, or the transport
   *     fails or ends first
   */
  public static DestinationReport readFrom(InputStream in) throws IOException {
    DataInputStream data = new DataInputStream(in);
    byte[] fixed = new byte[8 + 4 + 1 + 6 * 8 + 2];
    try {
      data.readFully(fixed);
      ByteBuffer head = ByteBuffer.wrap(fixed);
      if (head.getLong() != REPLY_MAGIC) {
        throw replyError("bad magic, not a precopy destination's reply");
      }
      int version = head.getInt();
      if (version != REPLY_VERSION) {
        throw replyError("unsupported version " + version);
      }
      byte completedByte = head.get();
      if (completedByte != 0 && completedByte != 1) {
        throw replyError("completed flag " + completedByte);
      }
      long normal = head.getLong();
      long zero = head.getLong();
      long encoded = head.getLong();
      long bytes = head.getLong();
      long verified = head.getLong();
      long mismatched = head.getLong();
      int length = Short.toUnsignedInt(head.getShort());
      if (length > MAX_FAILURE_BYTES) {
        throw replyError("failure text of " + length + " bytes");
      }
      byte[] text = new byte[length];
      data.readFully(text);
      int stored = data.readInt();
      CRC32C crc = new CRC32C();
      crc.update(fixed);
      crc.update(text);
      if ((int) crc.getValue() != stored) {
        throw replyError("checksum mismatch");
      }
      return new DestinationReport(
          completedByte == 1,
          normal,
          zero,
          encoded,
          bytes,
          verified,
          mismatched,
          length == 0 ? null : new String(text, StandardCharsets.UTF_8));
    } catch (EOFException e) {
      throw replyError("the destination closed the connection without a complete reply");
    }
  }

  private static IOException replyError(String problem) {
    return new IOException("destination's reply: " + problem);
  }
}
