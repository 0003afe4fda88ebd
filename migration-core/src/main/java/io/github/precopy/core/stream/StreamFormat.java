package io.github.precopy.core.stream;

import io.github.precopy.core.GuestMemory;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** Constants of the stream format described in the package documentation, shared by both ends. */
final class StreamFormat {

  /** {@code "PRECOPY\0"} read as a big-endian 64-bit word. */
  static final long MAGIC = 0x505245434F505900L;

  static final int VERSION = 1;

  static final int PAGE_SIZE = GuestMemory.PAGE_SIZE;

  static final int PAGE_SHIFT = GuestMemory.PAGE_SHIFT;

  /** Largest block table a decoder accepts. */
  static final int MAX_BLOCKS = 4096;

  /** Largest UTF-8 block name, in bytes. */
  static final int MAX_NAME_BYTES = 255;

  /** Magic, version, page size and block count. */
  static final int HEADER_BYTES = 8 + 4 + 4 + 4;

  /** Name length, guest address and used length around a block name. */
  static final int BLOCK_ENTRY_FIXED_BYTES = 2 + 8 + 8;

  static final int FLAG_ZERO = 0x02;
  static final int FLAG_PAGE = 0x08;
  static final int FLAG_EOS = 0x10;
  static final int FLAG_CONTINUE = 0x20;

  /** The low bits of a record word that hold flags; the rest is the page-aligned offset. */
  static final long FLAG_BITS = PAGE_SIZE - 1;

  static final int KNOWN_FLAGS = FLAG_ZERO | FLAG_PAGE | FLAG_EOS | FLAG_CONTINUE;

  static final int WORD_BYTES = 8;
  static final int BLOCK_ID_BYTES = 4;
  static final int EOS_PAYLOAD_BYTES = 8;

  static final VarHandle BE64 =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
  static final VarHandle BE32 =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
  static final VarHandle BE16 =
      MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);

  private StreamFormat() {}
}
