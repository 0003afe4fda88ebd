package io.github.precopy.core.stream;

import static io.github.precopy.core.stream.StreamFormat.BE16;
import static io.github.precopy.core.stream.StreamFormat.BE32;
import static io.github.precopy.core.stream.StreamFormat.BE64;
import static io.github.precopy.core.stream.StreamFormat.BLOCK_ENTRY_FIXED_BYTES;
import static io.github.precopy.core.stream.StreamFormat.BLOCK_ID_BYTES;
import static io.github.precopy.core.stream.StreamFormat.EOS_PAYLOAD_BYTES;
import static io.github.precopy.core.stream.StreamFormat.FLAG_CONTINUE;
import static io.github.precopy.core.stream.StreamFormat.FLAG_EOS;
import static io.github.precopy.core.stream.StreamFormat.FLAG_PAGE;
import static io.github.precopy.core.stream.StreamFormat.FLAG_ZERO;
import static io.github.precopy.core.stream.StreamFormat.HEADER_BYTES;
import static io.github.precopy.core.stream.StreamFormat.MAGIC;
import static io.github.precopy.core.stream.StreamFormat.MAX_BLOCKS;
import static io.github.precopy.core.stream.StreamFormat.MAX_NAME_BYTES;
import static io.github.precopy.core.stream.StreamFormat.PAGE_SHIFT;
import static io.github.precopy.core.stream.StreamFormat.PAGE_SIZE;
import static io.github.precopy.core.stream.StreamFormat.VERSION;
import static io.github.precopy.core.stream.StreamFormat.WORD_BYTES;

import io.github.precopy.core.RamBlock;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Encodes a migration stream (format in the {@linkplain io.github.precopy.core.stream package
 * documentation}): {@link #writeHeader}, any number of {@link #writeZeroPage}/{@link #writePage}
 * records, then {@link #writeEndOfStream}.
 *
 * <p>Records are assembled in a private buffer and handed to the {@link OutputStream} in large
 * writes; a data page is copied by {@link RamBlock#readPage(long, byte[], int)} straight into that
 * buffer, and no record allocates. The target is an {@code OutputStream} rather than a {@code
 * WritableByteChannel} because page reads land in a heap {@code byte[]} and every transport offers
 * one ({@link InProcessPipe#source()}, {@code Socket.getOutputStream()}, {@code
 * Files.newOutputStream}); a channel adapts with {@code Channels.newOutputStream}. The stream is
 * flushed only by {@link #flush()} and {@link #writeEndOfStream()}, and never closed here.
 *
 * <p>Thread-safety: none; one thread (the migration thread) uses a writer. Pages are read as they
 * are at the moment of the call; a page that a guest writes concurrently is sent with whatever
 * bytes the copy saw, which is safe because that write also marks it dirty for the next round.
 */
public final class MigrationStreamWriter {

  /** Default size of the private buffer, in bytes. */
  public static final int DEFAULT_BUFFER_BYTES = 256 * 1024;

  private final OutputStream out;
  private final byte[] buffer;
  private int position;
  private long flushedBytes;
  private Map<RamBlock, Integer> blockIds;
  private RamBlock lastBlock;
  private boolean ended;
  private long zeroPages;
  private long normalPages;

  /** A writer with a buffer of {@link #DEFAULT_BUFFER_BYTES}. */
  public MigrationStreamWriter(OutputStream out) {
    this(out, DEFAULT_BUFFER_BYTES);
  }

  /**
   * A writer with a buffer of {@code bufferBytes}.
   *
   * @throws IllegalArgumentException if {@code bufferBytes} is less than two pages (8192)
   */
  public MigrationStreamWriter(OutputStream out, int bufferBytes) {
    this.out = Objects.requireNonNull(out, "out");
    if (bufferBytes < 2 * PAGE_SIZE) {
      throw new IllegalArgumentException(
          "buffer of " + bufferBytes + " bytes is smaller than " + 2 * PAGE_SIZE);
    }
    this.buffer = new byte[bufferBytes];
  }

  /**
   * Writes the header with the block table; a block's id in the stream is its index in {@code
   * blocks}. Call once, first.
   *
   * @throws IllegalArgumentException if there are no blocks or more than 4096, a block appears
   *     twice, or a name is longer than 255 UTF-8 bytes
   * @throws IllegalStateException if the header was already written
   */
  public void writeHeader(List<RamBlock> blocks) throws IOException {
    if (blockIds != null) {
      throw new IllegalStateException("header already written");
    }
    if (blocks.isEmpty() || blocks.size() > MAX_BLOCKS) {
      throw new IllegalArgumentException(
          "block count " + blocks.size() + " out of range [1, " + MAX_BLOCKS + "]");
    }
    Map<RamBlock, Integer> ids = new IdentityHashMap<>();
    byte[][] names = new byte[blocks.size()][];
    for (int i = 0; i < blocks.size(); i++) {
      RamBlock block = blocks.get(i);
      if (ids.put(block, i) != null) {
        throw new IllegalArgumentException("block " + block.name() + " listed twice");
      }
      names[i] = block.name().getBytes(StandardCharsets.UTF_8);
      if (names[i].length == 0 || names[i].length > MAX_NAME_BYTES) {
        throw new IllegalArgumentException(
            "block name " + block.name() + " is not 1 to " + MAX_NAME_BYTES + " UTF-8 bytes");
      }
    }
    ensureRoom(HEADER_BYTES);
    BE64.set(buffer, position, MAGIC);
    BE32.set(buffer, position + 8, VERSION);
    BE32.set(buffer, position + 12, PAGE_SIZE);
    BE32.set(buffer, position + 16, blocks.size());
    position += HEADER_BYTES;
    for (int i = 0; i < blocks.size(); i++) {
      RamBlock block = blocks.get(i);
      byte[] name = names[i];
      ensureRoom(BLOCK_ENTRY_FIXED_BYTES + name.length);
      BE16.set(buffer, position, (short) name.length);
      System.arraycopy(name, 0, buffer, position + 2, name.length);
      int at = position + 2 + name.length;
      BE64.set(buffer, at, block.guestAddress());
      BE64.set(buffer, at + 8, block.usedLength());
      position = at + 16;
    }
    blockIds = ids;
  }

  /**
   * Writes a ZERO record for page {@code page} of {@code block} (fill byte 0): 9 bytes, or 13 when
   * the previous record named another block.
   *
   * @throws IllegalArgumentException if the block is not in the header
   * @throws IndexOutOfBoundsException if the page is not in the block
   * @throws IllegalStateException before the header or after the end of stream
   */
  public void writeZeroPage(RamBlock block, long page) throws IOException {
    int at = recordHeader(block, page, FLAG_ZERO, 1);
    buffer[at] = 0;
    position = at + 1;
    lastBlock = block;
    zeroPages++;
  }

  /**
   * Writes a PAGE record carrying the current contents of page {@code page} of {@code block}: 4104
   * bytes, or 4108 when the previous record named another block.
   *
   * @throws IllegalArgumentException if the block is not in the header
   * @throws IndexOutOfBoundsException if the page is not in the block
   * @throws IllegalStateException before the header or after the end of stream
   */
  public void writePage(RamBlock block, long page) throws IOException {
    int at = recordHeader(block, page, FLAG_PAGE, PAGE_SIZE);
    block.readPage(page, buffer, at);
    position = at + PAGE_SIZE;
    lastBlock = block;
    normalPages++;
  }

  /**
   * Writes the end-of-stream record (16 bytes, carrying the number of page records) and flushes. No
   * record may follow; the caller then closes the output stream.
   *
   * @throws IllegalStateException before the header or after the end of stream
   */
  public void writeEndOfStream() throws IOException {
    checkWritable();
    ensureRoom(WORD_BYTES + EOS_PAYLOAD_BYTES);
    BE64.set(buffer, position, (long) FLAG_EOS);
    BE64.set(buffer, position + WORD_BYTES, zeroPages + normalPages);
    position += WORD_BYTES + EOS_PAYLOAD_BYTES;
    ended = true;
    flush();
  }

  /** Hands every buffered byte to the output stream and flushes it. */
  public void flush() throws IOException {
    drain();
    out.flush();
  }

  /**
   * Bytes produced so far, including those still buffered: exactly the stream length a decoder
   * consumes for the records written.
   */
  public long bytesWritten() {
    return flushedBytes + position;
  }

  /** ZERO records written. */
  public long zeroPagesWritten() {
    return zeroPages;
  }

  /** PAGE records written. */
  public long normalPagesWritten() {
    return normalPages;
  }

  /**
   * Validates a page record, makes room for it and writes its word and block id; returns where the
   * payload goes. Nothing changes if validation fails.
   */
  private int recordHeader(RamBlock block, long page, int kind, int payloadBytes)
      throws IOException {
    checkWritable();
    long word = (page << PAGE_SHIFT) | kind;
    int id = -1;
    if (block == lastBlock) {
      word |= FLAG_CONTINUE;
    } else {
      Integer known = blockIds.get(Objects.requireNonNull(block, "block"));
      if (known == null) {
        throw new IllegalArgumentException("block " + block.name() + " is not in the header");
      }
      id = known;
    }
    if (page < 0 || page >= block.pageCount()) {
      throw new IndexOutOfBoundsException(
          "page " + page + " out of range [0, " + block.pageCount() + ") of " + block);
    }
    ensureRoom(WORD_BYTES + BLOCK_ID_BYTES + payloadBytes);
    int at = position;
    BE64.set(buffer, at, word);
    at += WORD_BYTES;
    if (id >= 0) {
      BE32.set(buffer, at, id);
      at += BLOCK_ID_BYTES;
    }
    return at;
  }

  private void checkWritable() {
    if (blockIds == null) {
      throw new IllegalStateException("header not written yet");
    }
    if (ended) {
      throw new IllegalStateException("end of stream already written");
    }
  }

  private void ensureRoom(int bytes) throws IOException {
    if (buffer.length - position < bytes) {
      drain();
    }
  }

  private void drain() throws IOException {
    if (position > 0) {
      out.write(buffer, 0, position);
      flushedBytes += position;
      position = 0;
    }
  }
}
