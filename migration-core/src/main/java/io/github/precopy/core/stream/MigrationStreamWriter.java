package io.github.precopy.core.stream;

import static io.github.precopy.core.stream.StreamFormat.BLOCK_ENTRY_FIXED_BYTES;
import static io.github.precopy.core.stream.StreamFormat.BLOCK_ID_BYTES;
import static io.github.precopy.core.stream.StreamFormat.CHECKSUM_BYTES;
import static io.github.precopy.core.stream.StreamFormat.ENCODED_HEADER_BYTES;
import static io.github.precopy.core.stream.StreamFormat.EOS_PAYLOAD_BYTES;
import static io.github.precopy.core.stream.StreamFormat.FLAG_CODECS;
import static io.github.precopy.core.stream.StreamFormat.FLAG_CONTINUE;
import static io.github.precopy.core.stream.StreamFormat.FLAG_DIGEST;
import static io.github.precopy.core.stream.StreamFormat.FLAG_ENCODED;
import static io.github.precopy.core.stream.StreamFormat.FLAG_EOS;
import static io.github.precopy.core.stream.StreamFormat.FLAG_PAGE;
import static io.github.precopy.core.stream.StreamFormat.FLAG_ZERO;
import static io.github.precopy.core.stream.StreamFormat.FRAME_HEADER_BYTES;
import static io.github.precopy.core.stream.StreamFormat.HEADER_BYTES;
import static io.github.precopy.core.stream.StreamFormat.MASK_BYTES;
import static io.github.precopy.core.stream.StreamFormat.MAX_BLOCKS;
import static io.github.precopy.core.stream.StreamFormat.MAX_CHANNELS;
import static io.github.precopy.core.stream.StreamFormat.MAX_CODEC_NAME_BYTES;
import static io.github.precopy.core.stream.StreamFormat.MAX_ENCODED_BYTES;
import static io.github.precopy.core.stream.StreamFormat.MAX_FRAME_BYTES;
import static io.github.precopy.core.stream.StreamFormat.MAX_NAME_BYTES;
import static io.github.precopy.core.stream.StreamFormat.MAX_PAGE_CODECS;
import static io.github.precopy.core.stream.StreamFormat.PAGE_SHIFT;
import static io.github.precopy.core.stream.StreamFormat.PAGE_SIZE;
import static io.github.precopy.core.stream.StreamFormat.PRELUDE_BYTES;
import static io.github.precopy.core.stream.StreamFormat.STRIPE_PAGES;
import static io.github.precopy.core.stream.StreamFormat.WORD_BYTES;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.spi.FrameCodec;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
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
  private long encodedPages;
  private long digestPages;
  private int pageCodecCount;

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
    writeHeader(blocks, List.of(), null, Map.of());
  }

  /**
   * Writes the header as {@link #writeHeader(List)}, naming the page codecs that {@link
   * #writeEncodedPage} may use (codec id = index in {@code pageCodecs}) and the frame codec, if not
   * null, that compresses every frame after the header, each channel with a compressor of its own
   * configured by {@code options}.
   *
   * @throws IllegalArgumentException also if there are more than 16 page codecs, a name is not a
   *     codec name or is repeated, or the frame codec rejects {@code options}
   */
  public void writeHeader(
      List<RamBlock> blocks,
      List<String> pageCodecs,
      FrameCodec frameCodec,
      Map<String, String> options)
      throws IOException {
    byte[] codecs = codecsUnit(pageCodecs, frameCodec == null ? null : frameCodec.name());
    FrameCodec.Compressor[] compressors = new FrameCodec.Compressor[channels.length];
    for (int c = 0; frameCodec != null && c < channels.length; c++) {
      compressors[c] = Objects.requireNonNull(frameCodec.compressor(options), "compressor");
    }
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
      channels[c].writeHeader(blocks, names, migrationId, c, channels.length, codecs);
      if (headerAlone || frameCodec != null) {
        channels[c].handOver();
      }
      if (frameCodec != null) {
        channels[c].compressWith(frameCodec, compressors[c]);
      }
    }
    pageCodecCount = pageCodecs.size();
    blockIds = ids;
  }

  /** The CODECS unit naming these codecs, or no bytes when there are none. */
  private static byte[] codecsUnit(List<String> pageCodecs, String frameCodec) {
    if (pageCodecs.size() > MAX_PAGE_CODECS) {
      throw new IllegalArgumentException(
          pageCodecs.size() + " page codecs, a stream names at most " + MAX_PAGE_CODECS);
    }
    if (pageCodecs.isEmpty() && frameCodec == null) {
      return new byte[0];
    }
    ByteBuffer unit =
        ByteBuffer.allocate(WORD_BYTES + 1 + (1 + MAX_CODEC_NAME_BYTES) * (MAX_PAGE_CODECS + 1));
    unit.putLong(FLAG_CODECS).put((byte) pageCodecs.size());
    for (String name : pageCodecs) {
      if (pageCodecs.indexOf(name) != pageCodecs.lastIndexOf(name)) {
        throw new IllegalArgumentException("page codec " + name + " listed twice");
      }
      putCodecName(unit, name);
    }
    if (frameCodec == null) {
      unit.put((byte) 0);
    } else {
      putCodecName(unit, frameCodec);
    }
    return Arrays.copyOf(unit.array(), unit.position());
  }

  private static void putCodecName(ByteBuffer unit, String name) {
    if (!StreamFormat.isCodecName(name)) {
      throw new IllegalArgumentException(
          "codec name \"" + name + "\" is not 1 to 63 lower-case letters, digits and dashes");
    }
    unit.put((byte) name.length()).put(name.getBytes(StandardCharsets.US_ASCII));
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
   * Writes a PAGE record carrying {@code data[offset]} to {@code data[offset + 4095]} as the page's
   * contents: a copy taken before, such as one a page encoder declined.
   *
   * @throws IllegalArgumentException if the block is not in the header
   * @throws IndexOutOfBoundsException if the page is not in the block or the data not in the array
   * @throws IllegalStateException before the header or after the end of stream
   */
  public void writePage(RamBlock block, long page, byte[] data, int offset) throws IOException {
    Objects.checkFromIndexSize(offset, PAGE_SIZE, data.length);
    int id = idOf(block);
    channelFor(id, block, page)
        .recordHeader(block, id, page, FLAG_PAGE, PAGE_SIZE)
        .put(data, offset, PAGE_SIZE);
    normalPages++;
  }

  /**
   * Writes an ENCODED record for page {@code page} of {@code block}: {@code length} bytes of {@code
   * data} from {@code offset}, encoded by the page codec with id {@code codec} in the header, which
   * the destination applies to the page it holds. 11 + length bytes, 15 + length with a block id.
   *
   * @throws IllegalArgumentException if the block is not in the header, the codec id is not in the
   *     header or the length not 1 to 4095
   * @throws IndexOutOfBoundsException if the page is not in the block or the bytes not in the array
   * @throws IllegalStateException before the header or after the end of stream
   */
  public void writeEncodedPage(
      RamBlock block, long page, int codec, byte[] data, int offset, int length)
      throws IOException {
    int id = idOf(block);
    if (codec < 0 || codec >= pageCodecCount) {
      throw new IllegalArgumentException(
          "codec id " + codec + " not among the " + pageCodecCount + " the header names");
    }
    if (length < 1 || length > MAX_ENCODED_BYTES) {
      throw new IllegalArgumentException(
          "encoded length " + length + " not in [1, " + MAX_ENCODED_BYTES + "]");
    }
    Objects.checkFromIndexSize(offset, length, data.length);
    channelFor(id, block, page)
        .recordHeader(block, id, page, FLAG_ENCODED, ENCODED_HEADER_BYTES + length)
        .put((byte) codec)
        .putShort((short) length)
        .put(data, offset, length);
    encodedPages++;
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
   * Bytes produced so far on all channels, frame headers included. Without a frame codec, records
   * still buffered are counted: exactly the stream length a decoder consumes for the records
   * written. With one, the bytes that travel: compressed frames once compressed, which may be later
   * than they are handed over; exact after {@link #flush()}. Never decreases.
   */
  public long bytesWritten() {
    long bytes = 0;
    for (ChannelEncoder channel : channels) {
      bytes += channel.bytesWritten();
    }
    return bytes;
  }

  /**
   * Bytes of the stream before frame compression, frame headers included and records still buffered
   * counted: {@link #bytesWritten()} when there is no frame codec.
   */
  public long uncompressedBytes() {
    long bytes = 0;
    for (ChannelEncoder channel : channels) {
      bytes += channel.uncompressedBytes();
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

  /** ENCODED records written. */
  public long encodedPagesWritten() {
    return encodedPages;
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
    private FrameCompression compression;
    private int frameLimit;
    private long framedBytes = PRELUDE_BYTES;

    /** Bytes of the frames handed over to be compressed, before compression, headers included. */
    private long compressedInput;

    private RamBlock lastBlock;
    private long pageRecords;
    private long digestPages;

    ChannelEncoder(FrameSink sink) {
      this.sink = sink;
      this.buffer = sink.firstBuffer();
      this.frameLimit = buffer.capacity();
    }

    void writeHeader(
        List<RamBlock> blocks,
        byte[][] names,
        long migrationId,
        int index,
        int count,
        byte[] codecs)
        throws IOException {
      ensureRoom(HEADER_BYTES + codecs.length);
      buffer.putInt(PAGE_SIZE).putLong(migrationId);
      buffer.putShort((short) index).putShort((short) count).putInt(blocks.size()).put(codecs);
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

    /**
     * From now on, compresses each frame with {@code compressor}: frames small enough that even
     * incompressible data fits a frame once compressed.
     */
    void compressWith(FrameCodec codec, FrameCodec.Compressor compressor) {
      while (codec.maxCompressedLength(frameLimit) > MAX_FRAME_BYTES) {
        frameLimit -= frameLimit / 4;
      }
      compression =
          new FrameCompression(
              codec, compressor, sink.allocate(codec.maxCompressedLength(frameLimit)));
      buffer.limit(frameLimit);
    }

    long bytesWritten() {
      return compression == null ? uncompressedBytes() : framedBytes + compression.wireBytes();
    }

    long uncompressedBytes() {
      return framedBytes
          + compressedInput
          + (buffer.position() > 0 ? FRAME_HEADER_BYTES + buffer.position() : 0);
    }

    private void ensureRoom(int bytes) throws IOException {
      if (buffer.remaining() < bytes) {
        handOver();
      }
    }

    void handOver() throws IOException {
      if (buffer.position() > 0) {
        if (compression == null) {
          framedBytes += FRAME_HEADER_BYTES + buffer.position();
        } else {
          compressedInput += FRAME_HEADER_BYTES + buffer.position();
        }
        buffer = sink.send(buffer, compression);
        buffer.limit(frameLimit);
      }
    }
  }
}
