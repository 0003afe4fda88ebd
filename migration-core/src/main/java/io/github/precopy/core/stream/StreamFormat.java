package io.github.precopy.core.stream;

import io.github.precopy.core.memory.GuestMemory;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/** Constants of the stream format described in the package documentation, shared by both ends. */
public final class StreamFormat {

  /** {@code "PRECOPY\0"} read as a big-endian 64-bit word. */
  public static final long MAGIC = 0x505245434F505900L;

  public static final int VERSION = 2;

  /** Magic and version, the only bytes outside a frame. */
  public static final int PRELUDE_BYTES = 8 + 4;

  /** A frame's length and checksum. */
  public static final int FRAME_HEADER_BYTES = 4 + 4;

  /** Largest frame payload a decoder accepts, and so the largest writer buffer. */
  public static final int MAX_FRAME_BYTES = 1 << 20;

  /** Most channels one migration may use. */
  public static final int MAX_CHANNELS = 64;

  /** Pages per channel stripe and per DIGEST record; a stripe always travels on one channel. */
  public static final int STRIPE_PAGES = 64;

  public static final int STRIPE_SHIFT = 6;

  public static final int PAGE_SIZE = GuestMemory.PAGE_SIZE;

  public static final int PAGE_SHIFT = GuestMemory.PAGE_SHIFT;

  /** Largest block table a decoder accepts. */
  public static final int MAX_BLOCKS = 4096;

  /** Largest UTF-8 block name, in bytes. */
  public static final int MAX_NAME_BYTES = 255;

  /** Page size, migration id, channel index, channel count and block count. */
  public static final int HEADER_BYTES = 4 + 8 + 2 + 2 + 4;

  /** Name length, guest address and used length around a block name. */
  public static final int BLOCK_ENTRY_FIXED_BYTES = 2 + 8 + 8;

  public static final int FLAG_ZERO = 0x02;
  public static final int FLAG_PAGE = 0x08;
  public static final int FLAG_EOS = 0x10;
  public static final int FLAG_CONTINUE = 0x20;
  public static final int FLAG_DIGEST = 0x40;
  public static final int FLAG_ENCODED = 0x80;
  public static final int FLAG_CODECS = 0x100;

  /** Most page codecs one stream names. */
  public static final int MAX_PAGE_CODECS = 16;

  /** Longest codec name, in bytes (a capability or codec name: ASCII). */
  public static final int MAX_CODEC_NAME_BYTES = 63;

  /** Longest encoding of a page: shorter than the page, or it goes whole. */
  public static final int MAX_ENCODED_BYTES = PAGE_SIZE - 1;

  /** Codec id and length before an encoded page's bytes. */
  public static final int ENCODED_HEADER_BYTES = 1 + 2;

  /** The low bits of a record word that hold flags; the rest is the page-aligned offset. */
  public static final long FLAG_BITS = PAGE_SIZE - 1;

  public static final int KNOWN_FLAGS =
      FLAG_ZERO | FLAG_PAGE | FLAG_EOS | FLAG_CONTINUE | FLAG_DIGEST | FLAG_ENCODED;

  public static final int WORD_BYTES = 8;
  public static final int BLOCK_ID_BYTES = 4;
  public static final int EOS_PAYLOAD_BYTES = 16;
  public static final int MASK_BYTES = 8;
  public static final int CHECKSUM_BYTES = 4;

  public static final VarHandle BE64 =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
  public static final VarHandle BE32 =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
  public static final VarHandle BE16 =
      MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);

  /**
   * Whether {@code name} may name a codec in a stream: 1 to 63 lower-case ASCII letters, digits and
   * dashes, starting with a letter or digit (the form of a capability name).
   */
  public static boolean isCodecName(String name) {
    return name.length() <= MAX_CODEC_NAME_BYTES && name.matches("[a-z0-9][a-z0-9-]*");
  }

  /** The channel that carries page {@code page} of the block with index {@code blockIndex}. */
  public static int channelOf(int blockIndex, long page, int channels) {
    return (int) (((page >>> STRIPE_SHIFT) + blockIndex) % channels);
  }

  /**
   * The checksum of a frame: CRC32C of its be32 index in the channel (0 for the first), its be32
   * length and its payload. The index makes a frame that is moved, repeated or dropped fail.
   */
  public static int frameChecksum(int index, int length, ByteBuffer payload) {
    CRC32C crc = new CRC32C();
    crc.update(ByteBuffer.allocate(8).putInt(index).putInt(length).flip());
    crc.update(payload);
    return (int) crc.getValue();
  }

  private StreamFormat() {}
}
