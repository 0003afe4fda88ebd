package io.github.precopy.core.stream;

import static io.github.precopy.core.stream.StreamFormat.BLOCK_ENTRY_FIXED_BYTES;
import static io.github.precopy.core.stream.StreamFormat.BLOCK_ID_BYTES;
import static io.github.precopy.core.stream.StreamFormat.CHECKSUM_BYTES;
import static io.github.precopy.core.stream.StreamFormat.EOS_PAYLOAD_BYTES;
import static io.github.precopy.core.stream.StreamFormat.FLAG_CONTINUE;
import static io.github.precopy.core.stream.StreamFormat.FLAG_DIGEST;
import static io.github.precopy.core.stream.StreamFormat.FLAG_EOS;
import static io.github.precopy.core.stream.StreamFormat.FLAG_PAGE;
import static io.github.precopy.core.stream.StreamFormat.FLAG_ZERO;
import static io.github.precopy.core.stream.StreamFormat.FRAME_HEADER_BYTES;
import static io.github.precopy.core.stream.StreamFormat.HEADER_BYTES;
import static io.github.precopy.core.stream.StreamFormat.MASK_BYTES;
import static io.github.precopy.core.stream.StreamFormat.MAX_BLOCKS;
import static io.github.precopy.core.stream.StreamFormat.MAX_CHANNELS;
import static io.github.precopy.core.stream.StreamFormat.MAX_FRAME_BYTES;
import static io.github.precopy.core.stream.StreamFormat.MAX_NAME_BYTES;
import static io.github.precopy.core.stream.StreamFormat.PAGE_SHIFT;
import static io.github.precopy.core.stream.StreamFormat.PAGE_SIZE;
import static io.github.precopy.core.stream.StreamFormat.PRELUDE_BYTES;
import static io.github.precopy.core.stream.StreamFormat.STRIPE_PAGES;
import static io.github.precopy.core.stream.StreamFormat.WORD_BYTES;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.RamBlock;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Encodes a migration stream (format in the {@linkplain io.github.precopy.core.stream package
 * documentation}) onto one or more channels: {@link #writeHeader}, any number of {@link
 * #writeZeroPage}/{@link #writePage} records, optionally {@link #writeDigest} for the pages in use,
 * then {@link #writeEndOfStream}.
 *
 * <p>Each channel assembles whole records in a buffer that becomes one checksummed frame: direct
 * for a socket or file channel, which writes it without a copy, on the heap for an {@link
 * OutputStream}, which takes its array as it is. A data page is copied by {@link
 * RamBlock#readPage(long, ByteBuffer)} straight into that buffer. Pages are split across channels
 * in stripes of 64 pages, so a page always travels on the same channel and its last record there is
 * its newest. The single-stream writer writes frames on the caller's thread; the channel writer
 * gives each channel a thread and a pool of three buffers, so that copying pages, checksumming and
 * writing overlap and memory stays bounded. Nothing is closed here except those threads ({@link
 * #close()}).
 *
 * <p>Thread-safety: none; one thread (the migration thread) uses a writer. Pages are read as they
 * are at the moment of the call; a page that a guest writes concurrently is sent with whatever
 * bytes the copy saw, which is safe because that write also marks it dirty for the next round.
 */
public final class MigrationStreamWriter implements Closeable {

  /** Default size of each channel's frame buffers, in bytes. */
  public static final int DEFAULT_BUFFER_BYTES = 256 * 1024;

  private final ChannelEncoder[] channels;

  /** Whether each channel's header is handed over in a frame of its own as soon as written. */
  private final boolean headerAlone;

  private final long migrationId = ThreadLocalRandom.current().nextLong();
  private Map<RamBlock, Integer> blockIds;
  private boolean ended;
  private long zeroPages;
  private long normalPages;
  private long digestPages;

  /** A single-stream writer with a buffer of {@link #DEFAULT_BUFFER_BYTES}. */
  public MigrationStreamWriter(OutputStream out) {
    this(out, DEFAULT_BUFFER_BYTES);
  }

  /**
   * A single-stream writer with a buffer of {@code bufferBytes}, writing frames on the caller's
   * thread and flushing {@code out} after each.
   *
   * @throws IllegalArgumentException if {@code bufferBytes} is not between two pages (8192) and 1
   *     MiB
   */
  public MigrationStreamWriter(OutputStream out, int bufferBytes) {
    Objects.requireNonNull(out, "out");
    checkBufferBytes(bufferBytes);
    channels =
        new ChannelEncoder[] {
          new ChannelEncoder(new DirectFrameSink(new OutputStreamChannel(out), bufferBytes))
        };
    headerAlone = false;
  }

  /**
   * A writer that splits the pages across {@code channels} (1 to 64), each written by a thread of
   * its own from a pool of three buffers of {@link #DEFAULT_BUFFER_BYTES}. A channel that takes no
   * frame for {@code stallTimeout} fails the next call with an {@link IOException}. Each channel's
   * header travels in a frame of its own, handed over at once, so that a receiver can check it
   * while it accepts the connection, before any page is sent.
   *
   * @throws IllegalArgumentException if there are no channels or more than 64
   */
  public MigrationStreamWriter(
      List<? extends WritableByteChannel> channels, Duration stallTimeout) {
    Objects.requireNonNull(stallTimeout, "stallTimeout");
    if (channels.isEmpty() || channels.size() > MAX_CHANNELS) {
      throw new IllegalArgumentException(
          "channel count " + channels.size() + " out of range [1, " + MAX_CHANNELS + "]");
    }
    this.channels = new ChannelEncoder[channels.size()];
    this.headerAlone = true;
    for (int i = 0; i < this.channels.length; i++) {
      this.channels[i] =
          new ChannelEncoder(
              new PipelinedFrameSink(
                  Objects.requireNonNull(channels.get(i), "channel"),
                  DEFAULT_BUFFER_BYTES,
                  stallTimeout,
                  "precopy-channel-" + i));
    }
  }

  /**
   * As {@link #MigrationStreamWriter(List, Duration)}, over transports that offer only a stream (a
   * TLS socket): frames live on the heap, whose arrays the streams take without a copy, and each
   * frame is flushed.
   */
  public static MigrationStreamWriter overStreams(
      List<? extends OutputStream> streams, Duration stallTimeout) {
    return new MigrationStreamWriter(
        streams.stream().map(OutputStreamChannel::new).toList(), stallTimeout);
  }

  private static void checkBufferBytes(int bufferBytes) {
    if (bufferBytes < 2 * PAGE_SIZE || bufferBytes > MAX_FRAME_BYTES) {
      throw new IllegalArgumentException(
          "buffer of "
              + bufferBytes
              + " bytes is not between "
              + 2 * PAGE_SIZE
              + " and "
              + MAX_FRAME_BYTES);
    }
  }

  /** The number of channels. */
  public int channels() {
    return channels.length;
  }

  /**
   * Writes the header with the block table on every channel; a block's id in the stream is its
   * index in {@code blocks}. Call once, first.
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
    for (int c = 0; c < channels.length; c++) {
      channels[c].writeHeader(blocks, names, migrationId, c, channels.length);
      if (headerAlone) {
        channels[c].handOver();
      }
    }
    blockIds = ids;
  }

  /**
   * Writes a ZERO record for page {@code page} of {@code block} (fill byte 0): 9 bytes, or 13 when
   * the channel's previous record named another block.
   *
   * @throws IllegalArgumentException if the block is not in the header
   * @throws IndexOutOfBoundsException if the page is not in the block
   * @throws IllegalStateException before the header or after the end of stream
   */
  public void writeZeroPage(RamBlock block, long page) throws IOException {
    int id = idOf(block);
    ByteBuffer buffer = channelFor(id, block, page).recordHeader(block, id, page, FLAG_ZERO, 1);
    buffer.put((byte) 0);
    zeroPages++;
  }

  /**
   * Writes a PAGE record carrying the current contents of page {@code page} of {@code block}: 4104
   * bytes, or 4108 when the channel's previous record named another block.
   *
   * @throws IllegalArgumentException if the block is not in the header
   * @throws IndexOutOfBoundsException if the page is not in the block
   * @throws IllegalStateException before the header or after the end of stream
   */
  public void writePage(RamBlock block, long page) throws IOException {
    int id = idOf(block);
    ByteBuffer buffer =
        channelFor(id, block, page).recordHeader(block, id, page, FLAG_PAGE, PAGE_SIZE);
    block.readPage(page, buffer);
    normalPages++;
  }

  /**
   * Writes DIGEST records with the CRC32C of every page of {@code block} set in {@code inUse}
   * (every page if {@code inUse} is null), read now; the destination compares them with the pages
   * it holds once it has applied every earlier record. Call after the last page record of the
   * block, while nothing writes the block.
   *
   * @throws IllegalArgumentException if the block is not in the header or {@code inUse} is not the
   *     block's size
   * @throws IllegalStateException before the header or after the end of stream
   */
  public void writeDigest(RamBlock block, PageBitmap inUse) throws IOException {
    int id = idOf(block);
    long pages = block.pageCount();
    if (inUse != null && inUse.size() != pages) {
      throw new IllegalArgumentException(
          "in-use bitmap of " + inUse.size() + " bits for " + pages + " pages of " + block);
    }
    for (long first = 0; first < pages; first += STRIPE_PAGES) {
      long end = Math.min(pages, first + STRIPE_PAGES);
      long mask = 0;
      for (long page = first; page < end; page++) {
        if (inUse == null || inUse.get(page)) {
          mask |= 1L << (page - first);
        }
      }
      if (mask != 0) {
        ChannelEncoder channel = channels[StreamFormat.channelOf(id, first, channels.length)];
        int count = Long.bitCount(mask);
        ByteBuffer buffer =
            channel.recordHeader(
                block, id, first, FLAG_DIGEST, MASK_BYTES + count * CHECKSUM_BYTES);
        buffer.putLong(mask);
        for (long bits = mask; bits != 0; bits &= bits - 1) {
          buffer.putInt(block.pageChecksum(first + Long.numberOfTrailingZeros(bits)));
        }
        channel.digestPages += count;
        digestPages += count;
      }
    }
  }

  /**
   * Writes the end-of-stream record on every channel (24 bytes, carrying the channel's number of
   * page records and of digested pages), and returns once every frame is written. No record may
   * follow; the caller then closes the channels.
   *
   * @throws IllegalStateException before the header or after the end of stream
   */
  public void writeEndOfStream() throws IOException {
    checkWritable();
    for (ChannelEncoder channel : channels) {
      channel.writeEndOfStream();
    }
    ended = true;
    flush();
  }

  /** Hands every buffered record to the channels and returns once they are written. */
  public void flush() throws IOException {
    for (ChannelEncoder channel : channels) {
      channel.handOver();
    }
    for (ChannelEncoder channel : channels) {
      channel.sink.drain();
    }
  }

  /** Stops the channels' writing threads, if any; closes no channel or stream. */
  @Override
  public void close() {
    for (ChannelEncoder channel : channels) {
      channel.sink.close();
    }
  }

  /**
   * Bytes produced so far on all channels, frame headers included and records still buffered
   * counted: exactly the stream length a decoder consumes for the records written.
   */
  public long bytesWritten() {
    long bytes = 0;
    for (ChannelEncoder channel : channels) {
      bytes += channel.bytesWritten();
    }
    return bytes;
  }

  /** ZERO records written. */
  public long zeroPagesWritten() {
    return zeroPages;
  }

  /** PAGE records written. */
  public long normalPagesWritten() {
    return normalPages;
  }

  /** Pages whose checksum a DIGEST record carries. */
  public long digestPagesWritten() {
    return digestPages;
  }

  /** The block's id in the header, after checking that records may be written. */
  private int idOf(RamBlock block) {
    checkWritable();
    Integer id = blockIds.get(Objects.requireNonNull(block, "block"));
    if (id == null) {
      throw new IllegalArgumentException("block " + block.name() + " is not in the header");
    }
    return id;
  }

  private ChannelEncoder channelFor(int id, RamBlock block, long page) {
    if (page < 0 || page >= block.pageCount()) {
      throw new IndexOutOfBoundsException(
          "page " + page + " out of range [0, " + block.pageCount() + ") of " + block);
    }
    return channels[StreamFormat.channelOf(id, page, channels.length)];
  }

  private void checkWritable() {
    if (blockIds == null) {
      throw new IllegalStateException("header not written yet");
    }
    if (ended) {
      throw new IllegalStateException("end of stream already written");
    }
  }

  /** One channel: its frame buffer, the block its last record named and its counts. */
  private static final class ChannelEncoder {
    private final FrameSink sink;
    private ByteBuffer buffer;
    private long framedBytes = PRELUDE_BYTES;
    private RamBlock lastBlock;
    private long pageRecords;
    private long digestPages;

    ChannelEncoder(FrameSink sink) {
      this.sink = sink;
      this.buffer = sink.firstBuffer();
    }

    void writeHeader(List<RamBlock> blocks, byte[][] names, long migrationId, int index, int count)
        throws IOException {
      ensureRoom(HEADER_BYTES);
      buffer.putInt(PAGE_SIZE).putLong(migrationId);
      buffer.putShort((short) index).putShort((short) count).putInt(blocks.size());
      for (int i = 0; i < blocks.size(); i++) {
        RamBlock block = blocks.get(i);
        ensureRoom(BLOCK_ENTRY_FIXED_BYTES + names[i].length);
        buffer.putShort((short) names[i].length).put(names[i]);
        buffer.putLong(block.guestAddress()).putLong(block.usedLength());
      }
    }

    /** Makes room for a record, writes its word and block id; the buffer is then at the payload. */
    ByteBuffer recordHeader(RamBlock block, int id, long page, int kind, int payloadBytes)
        throws IOException {
      ensureRoom(WORD_BYTES + BLOCK_ID_BYTES + payloadBytes);
      long word = (page << PAGE_SHIFT) | kind;
      if (block == lastBlock) {
        buffer.putLong(word | FLAG_CONTINUE);
      } else {
        buffer.putLong(word).putInt(id);
        lastBlock = block;
      }
      if (kind != FLAG_DIGEST) {
        pageRecords++;
      }
      return buffer;
    }

    void writeEndOfStream() throws IOException {
      ensureRoom(WORD_BYTES + EOS_PAYLOAD_BYTES);
      buffer.putLong(FLAG_EOS).putLong(pageRecords).putLong(digestPages);
    }

    long bytesWritten() {
      return framedBytes + (buffer.position() > 0 ? FRAME_HEADER_BYTES + buffer.position() : 0);
    }

    private void ensureRoom(int bytes) throws IOException {
      if (buffer.remaining() < bytes) {
        handOver();
      }
    }

    void handOver() throws IOException {
      if (buffer.position() > 0) {
        framedBytes += FRAME_HEADER_BYTES + buffer.position();
        buffer = sink.send(buffer);
      }
    }
  }
}
