package io.github.precopy.core.stream;

import static io.github.precopy.core.stream.StreamFormat.BE16;
import static io.github.precopy.core.stream.StreamFormat.BE32;
import static io.github.precopy.core.stream.StreamFormat.BE64;
import static io.github.precopy.core.stream.StreamFormat.BLOCK_ID_BYTES;
import static io.github.precopy.core.stream.StreamFormat.CHECKSUM_BYTES;
import static io.github.precopy.core.stream.StreamFormat.ENCODED_HEADER_BYTES;
import static io.github.precopy.core.stream.StreamFormat.EOS_PAYLOAD_BYTES;
import static io.github.precopy.core.stream.StreamFormat.FLAG_BITS;
import static io.github.precopy.core.stream.StreamFormat.FLAG_CODECS;
import static io.github.precopy.core.stream.StreamFormat.FLAG_CONTINUE;
import static io.github.precopy.core.stream.StreamFormat.FLAG_DIGEST;
import static io.github.precopy.core.stream.StreamFormat.FLAG_ENCODED;
import static io.github.precopy.core.stream.StreamFormat.FLAG_EOS;
import static io.github.precopy.core.stream.StreamFormat.FLAG_PAGE;
import static io.github.precopy.core.stream.StreamFormat.FLAG_ZERO;
import static io.github.precopy.core.stream.StreamFormat.FRAME_HEADER_BYTES;
import static io.github.precopy.core.stream.StreamFormat.HEADER_BYTES;
import static io.github.precopy.core.stream.StreamFormat.KNOWN_FLAGS;
import static io.github.precopy.core.stream.StreamFormat.MAGIC;
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
import static io.github.precopy.core.stream.StreamFormat.VERSION;
import static io.github.precopy.core.stream.StreamFormat.WORD_BYTES;

import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.spi.FrameCodec;
import io.github.precopy.spi.PageDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Decodes and validates one channel of a migration stream against the destination's RAM blocks, one
 * record at a time, without allocating per record. Each frame is read whole and its CRC32C checked
 * before any record in it is decoded, so a corrupted frame is never applied. A record returned by
 * {@link #next()} is valid: its block is in the table, its page inside the block's used length and
 * on this channel; its payload is complete in {@link #buffer()} until the next call, or, for a PAGE
 * record read straight into memory ({@link #landPagesIn}), already in its page.
 *
 * <p>Every length it acts on is bounded by fixed limits (a 1 MiB frame, a 255-byte name, 4096
 * blocks, 64 channels). End of input anywhere but after the end-of-stream record is an error, never
 * a wait. Not thread-safe.
 */
public final class MigrationStreamReader {

  public static final int ZERO = FLAG_ZERO;
  public static final int PAGE = FLAG_PAGE;
  public static final int EOS = FLAG_EOS;
  public static final int DIGEST = FLAG_DIGEST;
  public static final int ENCODED = FLAG_ENCODED;

  /**
   * Bytes a frame is read ahead by, into {@link #buffer}, after a record that is not a PAGE (a run
   * of ZERO records is read a page's worth at a time); after a PAGE, only the next record word is.
   */
  private static final int READ_AHEAD_BYTES = PAGE_SIZE;

  /** Most PAGE records one frame can hold. */
  private static final int MAX_FRAME_PAGES = MAX_FRAME_BYTES / (WORD_BYTES + PAGE_SIZE) + 1;

  private final InputStream in;
  private final FrameWatcher watcher;
  private final ScatteringInput scatter;
  private PageLanding landing;

  /** The frame being streamed: its length, and how many of its bytes have been read. */
  private int frameLength;

  private int received;
  private int readAhead;
  private final CRC32C crc = new CRC32C();
  private final byte[] crcPrefix = new byte[8];
  private final ByteBuffer bufferView;
  private final ByteBuffer[] scatterTargets = new ByteBuffer[2];

  /** Where, in the frame, the payloads of PAGE records read straight into memory start. */
  private final int[] inPlace = new int[MAX_FRAME_PAGES];

  private int inPlaceCount;
  private int inPlaceNext;
  private boolean payloadInPlace;

  /** The pages a frame's ZERO, ENCODED, DIGEST and buffered PAGE records name, as one range. */
  private int touchedBlock;

  private long touchedLow;
  private long touchedHigh;
  private final byte[] frameHeader = new byte[PRELUDE_BYTES + FRAME_HEADER_BYTES];
  private final byte[] buffer = new byte[MAX_FRAME_BYTES];
  private int position;
  private int limit;
  private long frameStart;
  private long inputBytes;
  private int frames;

  private RamBlock[] blocks;
  private long migrationId;
  private int channel;
  private int channelCount;
  private long recordIndex = -1;
  private long recordStart;
  private long pageRecords;
  private long digestPages;
  private RamBlock block;
  private int blockIndex = -1;
  private long page;
  private byte fill;
  private int payloadOffset;
  private int payloadLength;
  private int codecId;
  private List<String> pageCodecs = List.of();
  private String frameCodec;
  private FrameCodec.Decompressor decompressor;
  private byte[] compressed;
  private boolean tableRead;
  private boolean compressedFrame;
  private boolean codecsResolved;
  private List<PageDecoder> pageDecoders = List.of();
  private long digestMask;

  public MigrationStreamReader(InputStream in) {
    this(in, FrameWatcher.NONE);
  }

  /** A reader that tells {@code watcher} where each frame begins and ends. */
  public MigrationStreamReader(InputStream in, FrameWatcher watcher) {
    this(in, watcher, null);
  }

  /**
   * A reader that tells {@code watcher} where each frame begins and ends and that, once given a
   * {@link #landPagesIn landing}, reads the payloads of PAGE records in uncompressed frames
   * straight into memory through {@code scatter}, which reads the same bytes as {@code in} (null:
   * every frame is read into the reader's buffer).
   */
  public MigrationStreamReader(InputStream in, FrameWatcher watcher, ScatteringInput scatter) {
    this.in = in;
    this.watcher = watcher;
    this.scatter = scatter;
    this.bufferView = ByteBuffer.wrap(buffer);
  }

  /**
   * An input that can read into several buffers at once, such as a socket channel's scattering
   * read: the bytes fill the buffers in order, each up to its limit.
   */
  public interface ScatteringInput {
    /**
     * Reads at least one byte into {@code targets}, in order, blocking until one arrives.
     *
     * @return the bytes read, or -1 at end of input
     */
    long read(ByteBuffer[] targets) throws IOException;
  }

  /**
   * Where the payloads of PAGE records land when they are read straight into memory: the
   * destination's guest RAM. A payload lands before its frame's checksum is checked; its record is
   * returned by {@link #next()}, with {@link #payloadInPlace()}, only once the checksum holds.
   */
  public interface PageLanding {
    /**
     * Page {@code page} of {@code block}, whose record has been validated (block, offset, channel),
     * as a writable buffer of its 4096 bytes at positions 0 to 4096.
     */
    ByteBuffer landingPage(RamBlock block, long page);

    /**
     * A read into {@link #landingPage} of that page failed with {@code failure}; returns what to
     * throw, or throws what it means for the memory (a fault of the memory behind the page).
     */
    IOException landingFailed(RamBlock block, long page, IOException failure);
  }

  /**
   * From now on, reads the payloads of PAGE records in uncompressed frames straight into {@code
   * landing}, if this reader was given a {@link ScatteringInput}. Call after the header, before
   * {@link #next()}.
   */
  public void landPagesIn(PageLanding landing) {
    this.landing = landing;
  }

  /**
   * Reads the prelude and the channel's header, and checks that the header describes exactly {@code
   * expected}, in order.
   */
  public void readHeader(List<RamBlock> expected) throws IOException {
    int count = readHeaderFields();
    if (count != expected.size()) {
      throw new MigrationStreamException(
          "stream has " + count + " RAM blocks, destination has " + expected.size(),
          frameStart + 16,
          -1);
    }
    for (int i = 0; i < count; i++) {
      readBlockEntry(i, expected.get(i));
    }
    endHeader();
    blocks = expected.toArray(new RamBlock[0]);
  }

  /**
   * One entry of a header's block table, as the stream states it.
   *
   * @param name the RAM block's name
   * @param guestAddress the guest-physical address of its first byte
   * @param usedLength its length in bytes
   */
  public record BlockEntry(String name, long guestAddress, long usedLength) {}

  /**
   * Reads the prelude and the channel's header, checked as {@link #readHeader} does but against no
   * memory, and returns its block table in id order. No record can be read after this.
   */
  public List<BlockEntry> readBlockTable() throws IOException {
    int count = readHeaderFields();
    List<BlockEntry> table = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      table.add(readBlockEntry(i, null));
    }
    endHeader();
    tableRead = true;
    return table;
  }

  /** Reads and checks the prelude and the header's fixed fields; returns the block count. */
  private int readHeaderFields() throws IOException {
    readFully(frameHeader, PRELUDE_BYTES, "prelude");
    long magic = (long) BE64.get(frameHeader, 0);
    if (magic != MAGIC) {
      throw new MigrationStreamException(
          "bad magic 0x" + Long.toHexString(magic) + ", not a precopy stream", 0, -1);
    }
    int version = (int) BE32.get(frameHeader, 8);
    if (version != VERSION) {
      throw new MigrationStreamException(
          "unsupported version " + version + ", this decoder reads " + VERSION, 8, -1);
    }
    ensureUnit(HEADER_BYTES, "header");
    int pageSize = (int) BE32.get(buffer, position);
    if (pageSize != PAGE_SIZE) {
      throw headerError(0, "page size " + pageSize + ", destination uses " + PAGE_SIZE);
    }
    migrationId = (long) BE64.get(buffer, position + 4);
    channel = Short.toUnsignedInt((short) BE16.get(buffer, position + 12));
    channelCount = Short.toUnsignedInt((short) BE16.get(buffer, position + 14));
    if (channelCount == 0 || channelCount > MAX_CHANNELS || channel >= channelCount) {
      throw headerError(
          12,
          "channel "
              + channel
              + " of "
              + channelCount
              + " is not a channel of 1 to "
              + MAX_CHANNELS);
    }
    int count = (int) BE32.get(buffer, position + 16);
    if (count <= 0 || count > MAX_BLOCKS) {
      throw headerError(
          16, "block count " + Integer.toUnsignedString(count) + " not in [1, " + MAX_BLOCKS + "]");
    }
    position += HEADER_BYTES;
    if (limit - position >= WORD_BYTES && (long) BE64.get(buffer, position) == FLAG_CODECS) {
      position += WORD_BYTES;
      readCodecs();
    }
    return count;
  }

  /**
   * The CODECS unit: the page codecs by id, each a length-prefixed capability name, then the frame
   * codec's name (length 0: none).
   */
  private void readCodecs() throws MigrationStreamException {
    ensure(1, "codec count");
    int count = Byte.toUnsignedInt(buffer[position++]);
    if (count > MAX_PAGE_CODECS) {
      throw headerError(-1, "page codec count " + count + " not in [0, " + MAX_PAGE_CODECS + "]");
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i <= count; i++) {
      boolean frame = i == count;
      String what = frame ? "frame codec" : "page codec " + i;
      ensure(1, what + " name length");
      int length = Byte.toUnsignedInt(buffer[position++]);
      if (frame && length == 0) {
        break;
      }
      if (length == 0 || length > MAX_CODEC_NAME_BYTES) {
        throw headerError(
            -1, what + ": name length " + length + " not in [1, " + MAX_CODEC_NAME_BYTES + "]");
      }
      ensure(length, what + " name");
      String name = new String(buffer, position, length, StandardCharsets.US_ASCII);
      if (!StreamFormat.isCodecName(name)) {
        throw headerError(0, what + ": \"" + printable(name) + "\" is not a codec name");
      }
      position += length;
      if (frame) {
        frameCodec = name;
      } else if (names.contains(name)) {
        throw headerError(-length, what + ": \"" + name + "\" is named twice");
      } else {
        names.add(name);
      }
    }
    if (names.isEmpty() && frameCodec == null) {
      throw headerError(0, "a CODECS unit that names no codec");
    }
    pageCodecs = List.copyOf(names);
  }

  /** A frame codec's frames start after the header, which then ends its frame. */
  private void endHeader() throws MigrationStreamException {
    if (frameCodec != null && position != limit) {
      throw headerError(
          0, "records share the header's frame, which a stream with a frame codec may not");
    }
  }

  private static String printable(String name) {
    return name.replaceAll("[^\\x20-\\x7e]", "?");
  }

  /** Reads block entry {@code index}, checked against {@code expected} unless that is null. */
  private BlockEntry readBlockEntry(int index, RamBlock expected) throws IOException {
    ensureUnit(2, "block table");
    int nameLength = Short.toUnsignedInt((short) BE16.get(buffer, position));
    if (nameLength == 0 || nameLength > MAX_NAME_BYTES) {
      throw headerError(
          0,
          "block " + index + ": name length " + nameLength + " not in [1, " + MAX_NAME_BYTES + "]");
    }
    ensure(2 + nameLength + 16, "block table");
    int nameAt = position + 2;
    int at = nameAt + nameLength;
    if (expected == null) {
      BlockEntry entry =
          new BlockEntry(
              new String(buffer, nameAt, nameLength, StandardCharsets.UTF_8),
              (long) BE64.get(buffer, at),
              (long) BE64.get(buffer, at + 8));
      position = at + 16;
      return entry;
    }
    byte[] expectedName = expected.name().getBytes(StandardCharsets.UTF_8);
    if (!Arrays.equals(buffer, nameAt, nameAt + nameLength, expectedName, 0, expectedName.length)) {
      throw headerError(
          2,
          "block "
              + index
              + " is named \""
              + new String(buffer, nameAt, nameLength, StandardCharsets.UTF_8)
              + "\", destination's is \""
              + expected.name()
              + "\"");
    }
    long guestAddress = (long) BE64.get(buffer, at);
    if (guestAddress != expected.guestAddress()) {
      throw headerError(
          at - position,
          "block "
              + expected.name()
              + " at guest address 0x"
              + Long.toHexString(guestAddress)
              + ", destination's at 0x"
              + Long.toHexString(expected.guestAddress()));
    }
    long usedLength = (long) BE64.get(buffer, at + 8);
    if (usedLength != expected.usedLength()) {
      throw headerError(
          at + 8 - position,
          "block "
              + expected.name()
              + " has used length "
              + Long.toUnsignedString(usedLength)
              + ", destination's has "
              + expected.usedLength());
    }
    position = at + 16;
    return null;
  }

  /** Whether {@link #readHeader} has read and accepted the header. */
  public boolean headerRead() {
    return blocks != null;
  }

  /**
   * Frames read whole with a matching checksum so far. A failure once the first frame has passed
   * its checksum comes from a precopy encoder's stream that does not fit (or a corruption that the
   * checksum missed); a failure before it, from input that is not a precopy stream at all.
   */
  public int framesRead() {
    return frames;
  }

  /** The migration id in the header, the same on every channel of one migration. */
  public long migrationId() {
    return migrationId;
  }

  /** This channel's index, from the header. */
  public int channel() {
    return channel;
  }

  /** The number of channels, from the header. */
  public int channelCount() {
    return channelCount;
  }

  /**
   * Decodes the next record and returns its kind: {@link #ZERO}, {@link #PAGE}, {@link #ENCODED},
   * {@link #DIGEST} or {@link #EOS} (whose counts have then been checked).
   */
  public int next() throws IOException {
    recordIndex++;
    ensureUnit(WORD_BYTES, "record word");
    recordStart = bytesRead();
    long word = (long) BE64.get(buffer, position);
    position += WORD_BYTES;
    if (word == FLAG_CODECS) {
      throw recordError("a CODECS unit outside the channel header");
    }
    int flags = (int) (word & FLAG_BITS);
    long offset = word & ~FLAG_BITS;
    if ((flags & ~KNOWN_FLAGS) != 0) {
      throw recordError(
          "unknown flags 0x"
              + Integer.toHexString(flags & ~KNOWN_FLAGS)
              + " in word 0x"
              + Long.toHexString(word));
    }
    int kind = flags & ~FLAG_CONTINUE;
    if (kind == ZERO || kind == PAGE || kind == DIGEST || kind == ENCODED) {
      readBlockRecord(flags, offset, kind);
    } else if (kind == EOS) {
      readEndOfStream(word);
    } else {
      throw recordError(
          "flags 0x"
              + Integer.toHexString(flags)
              + " do not name exactly one of ZERO, PAGE, ENCODED, DIGEST, EOS");
    }
    return kind;
  }

  /**
   * A ZERO, PAGE, ENCODED or DIGEST record after its word. Kept small, with its error messages
   * built elsewhere, so that the JIT inlines it into {@link #next()}: a record is a few bytes.
   */
  private void readBlockRecord(int flags, long offset, int kind) throws IOException {
    int target;
    if ((flags & FLAG_CONTINUE) != 0) {
      target = blockIndex;
      if (target < 0) {
        throw recordError("CONTINUE with no previous block");
      }
    } else {
      ensure(BLOCK_ID_BYTES, "block id");
      target = (int) BE32.get(buffer, position);
      position += BLOCK_ID_BYTES;
      if (target < 0 || target >= blocks.length) {
        throw blockIdError(target);
      }
    }
    RamBlock targetBlock = blocks[target];
    if (Long.compareUnsigned(offset, targetBlock.usedLength()) >= 0) {
      throw offsetError(offset, targetBlock);
    }
    long targetPage = offset >>> PAGE_SHIFT;
    if (StreamFormat.channelOf(target, targetPage, channelCount) != channel) {
      throw channelError(target, targetPage, targetBlock);
    }
    if (kind == ZERO) {
      ensure(1, "ZERO fill byte");
      fill = buffer[position++];
      pageRecords++;
    } else if (kind == PAGE) {
      ensure(PAGE_SIZE, "PAGE payload");
      payloadOffset = position;
      payloadInPlace = inPlaceNext < inPlaceCount && inPlace[inPlaceNext] == position;
      if (payloadInPlace) {
        inPlaceNext++;
      }
      position += PAGE_SIZE;
      pageRecords++;
    } else if (kind == ENCODED) {
      readEncoded();
    } else {
      readDigest(targetBlock, targetPage);
    }
    block = targetBlock;
    blockIndex = target;
    page = targetPage;
  }

  private MigrationStreamException blockIdError(int id) {
    return recordError(
        "block id " + Integer.toUnsignedString(id) + " not in the block table of " + blocks.length);
  }

  private MigrationStreamException offsetError(long offset, RamBlock target) {
    return recordError(
        "offset 0x"
            + Long.toHexString(offset)
            + " not below used length 0x"
            + Long.toHexString(target.usedLength())
            + " of block "
            + target.name());
  }

  private MigrationStreamException channelError(int target, long targetPage, RamBlock block) {
    return recordError(
        "page "
            + targetPage
            + " of block "
            + block.name()
            + " belongs to channel "
            + StreamFormat.channelOf(target, targetPage, channelCount)
            + ", not to this channel "
            + channel);
  }

  /** An ENCODED record's codec id, length and payload. */
  private void readEncoded() throws MigrationStreamException {
    ensure(ENCODED_HEADER_BYTES, "ENCODED codec and length");
    int id = Byte.toUnsignedInt(buffer[position]);
    int length = Short.toUnsignedInt((short) BE16.get(buffer, position + 1));
    if (id >= pageCodecs.size()) {
      throw recordError(
          "codec id " + id + " not among the " + pageCodecs.size() + " codecs the stream named");
    }
    if (length == 0 || length > MAX_ENCODED_BYTES) {
      throw recordError("encoded length " + length + " not in [1, " + MAX_ENCODED_BYTES + "]");
    }
    position += ENCODED_HEADER_BYTES;
    ensure(length, "ENCODED payload");
    codecId = id;
    payloadOffset = position;
    payloadLength = length;
    position += length;
    pageRecords++;
  }

  private void readDigest(RamBlock target, long first) throws IOException {
    if (first % STRIPE_PAGES != 0) {
      throw recordError("DIGEST at page " + first + ", not a multiple of " + STRIPE_PAGES);
    }
    ensure(MASK_BYTES, "DIGEST mask");
    long mask = (long) BE64.get(buffer, position);
    position += MASK_BYTES;
    long pagesLeft = target.pageCount() - first;
    if (mask == 0 || (pagesLeft < STRIPE_PAGES && (mask >>> pagesLeft) != 0)) {
      throw recordError(
          "DIGEST mask 0x"
              + Long.toHexString(mask)
              + " at page "
              + first
              + " names no page or pages past the "
              + target.pageCount()
              + " of block "
              + target.name());
    }
    int count = Long.bitCount(mask);
    ensure(count * CHECKSUM_BYTES, "DIGEST checksums");
    payloadOffset = position;
    position += count * CHECKSUM_BYTES;
    digestMask = mask;
    digestPages += count;
  }

  private void readEndOfStream(long word) throws IOException {
    if (word != FLAG_EOS) {
      throw recordError("end-of-stream word 0x" + Long.toHexString(word) + " is not 0x10");
    }
    ensure(EOS_PAYLOAD_BYTES, "end-of-stream counts");
    long sent = (long) BE64.get(buffer, position);
    long digested = (long) BE64.get(buffer, position + 8);
    position += EOS_PAYLOAD_BYTES;
    if (sent != pageRecords) {
      throw recordError(
          "end of stream counts "
              + Long.toUnsignedString(sent)
              + " page records, the channel held "
              + pageRecords);
    }
    if (digested != digestPages) {
      throw recordError(
          "end of stream counts "
              + Long.toUnsignedString(digested)
              + " digested pages, the channel held "
              + digestPages);
    }
  }

  /** Checks that the input ends right after the end-of-stream record; waits for end of input. */
  public void expectEnd() throws IOException {
    if (position < limit || in.read() >= 0) {
      throw new MigrationStreamException(
          "bytes follow the end-of-stream record", bytesRead(), recordIndex + 1);
    }
  }

  /** The page codecs the header names, in id order; empty when it names none. */
  public List<String> pageCodecs() {
    return pageCodecs;
  }

  /** The frame codec the header names, or null: every frame after the header's is compressed. */
  public String frameCodec() {
    return frameCodec;
  }

  /**
   * Takes the plugins for the codecs the header names: {@code pageDecoders} in the order of {@link
   * #pageCodecs()}, and the decompressor of {@link #frameCodec()} (null when it names none). Call
   * once, after the header, before {@link #next()}.
   *
   * @throws IllegalArgumentException if they do not match the codecs the header names
   */
  public void useCodecs(List<PageDecoder> pageDecoders, FrameCodec.Decompressor decompressor) {
    if (pageDecoders.size() != pageCodecs.size()
        || (decompressor == null) != (frameCodec == null)) {
      throw new IllegalArgumentException(
          pageDecoders.size()
              + " page decoders and "
              + (decompressor == null ? "no" : "a")
              + " decompressor for a stream that names "
              + pageCodecs
              + " and frame codec "
              + frameCodec);
    }
    this.pageDecoders = List.copyOf(pageDecoders);
    this.decompressor = decompressor;
    if (decompressor != null) {
      compressed = new byte[MAX_FRAME_BYTES];
    }
    codecsResolved = true;
  }

  /** Whether {@link #useCodecs} has been called. */
  public boolean codecsResolved() {
    return codecsResolved;
  }

  /** The decoder of the last ENCODED record's codec. */
  public PageDecoder pageDecoder() {
    return pageDecoders.get(codecId);
  }

  /** An error about the last record, for what its payload turned out to be when applied. */
  public MigrationStreamException recordRejected(String problem) {
    return recordError(problem);
  }

  /** The codec id of the last ENCODED record. */
  public int codecId() {
    return codecId;
  }

  /** The length of the last ENCODED record's encoding, which starts at {@link #payloadOffset()}. */
  public int payloadLength() {
    return payloadLength;
  }

  /** The block of the last ZERO, PAGE, ENCODED or DIGEST record. */
  public RamBlock block() {
    return block;
  }

  /** The page (first page, for DIGEST) within {@link #block()} of the last block record. */
  public long page() {
    return page;
  }

  /** The fill byte of the last ZERO record. */
  public byte fill() {
    return fill;
  }

  /** The pages of the last DIGEST record: bit i is page {@link #page()} + i. */
  public long digestMask() {
    return digestMask;
  }

  /**
   * Whether the last PAGE record's payload is already in its page, read there straight from the
   * input (its frame's checksum has held since); if not, it is in {@link #buffer()}.
   */
  public boolean payloadInPlace() {
    return payloadInPlace;
  }

  /** The buffer that holds the last PAGE record's payload or DIGEST record's checksums. */
  public byte[] buffer() {
    return buffer;
  }

  /** Where the last PAGE record's payload or DIGEST record's checksums start in the buffer. */
  public int payloadOffset() {
    return payloadOffset;
  }

  /**
   * Stream bytes decoded so far, frame headers included. Within a compressed frame, whose records
   * have no place of their own in the stream, the offset of the frame's payload until it is used
   * up.
   */
  public long bytesRead() {
    if (compressedFrame) {
      return position == limit ? inputBytes : frameStart;
    }
    return frameStart + position;
  }

  /**
   * At the start of a unit: makes {@code bytes} unread bytes available, reading the next frame when
   * this one is used up; fails on end of input or on a unit that runs past its frame.
   */
  private void ensureUnit(int bytes, String what) throws IOException {
    if (position == limit) {
      readFrame(what);
    }
    ensure(bytes, what);
  }

  /** Within a unit: the next {@code bytes} must be in the current frame. */
  private void ensure(int bytes, String what) throws MigrationStreamException {
    if (limit - position < bytes) {
      throw error(
          what
              + " of "
              + bytes
              + " bytes runs past the end of its frame ("
              + (limit - position)
              + " bytes left)");
    }
  }

  private void readFrame(String what) throws IOException {
    long headerAt = inputBytes;
    watcher.beforeFrame();
    readFully(frameHeader, FRAME_HEADER_BYTES, "frame header before " + what);
    int length = (int) BE32.get(frameHeader, 0);
    if (length <= 0 || length > MAX_FRAME_BYTES) {
      throw frameError(
          headerAt,
          "frame length "
              + Integer.toUnsignedString(length)
              + " not in [1, "
              + MAX_FRAME_BYTES
              + "]");
    }
    int stored = (int) BE32.get(frameHeader, 4);
    frameStart = inputBytes;
    position = 0;
    limit = 0;
    boolean decompress = frameCodec != null && headerDone();
    if (decompress && decompressor == null) {
      throw new IllegalStateException("no decompressor for the stream's " + frameCodec + " frames");
    }
    compressedFrame = decompress;
    inPlaceCount = 0;
    inPlaceNext = 0;
    byte[] into = decompress ? compressed : buffer;
    int computed;
    if (!decompress && scatter != null && landing != null && blocks != null) {
      computed = streamFrame(length);
    } else {
      readFully(into, length, "frame of " + length + " bytes");
      watcher.frameRead();
      computed = StreamFormat.frameChecksum(frames, length, ByteBuffer.wrap(into, 0, length));
    }
    if (computed != stored) {
      throw frameError(
          headerAt,
          "frame checksum 0x"
              + Integer.toHexString(stored)
              + " does not match its "
              + length
              + " bytes (0x"
              + Integer.toHexString(computed)
              + ") as frame "
              + frames
              + " of its channel: the stream is corrupted");
    }
    frames++;
    limit = decompress ? decompress(headerAt, length) : length;
  }

  /**
   * Reads a frame of records whose header has been read, as {@link #readFrame} does, but with the
   * payloads of PAGE records read straight into their pages where it can, and returns its checksum,
   * computed once over the bytes as they arrive (the page's in memory, the rest in {@link
   * #buffer}). The other bytes are at their place in the buffer, so that {@link #next()} decodes
   * the frame from there once the checksum holds, taking the pages read into memory as they are.
   *
   * <p>The frame is scanned as it arrives: a PAGE payload is read into memory only after its record
   * word and block id have been read and checked (block in the table, offset below its used length,
   * page on this channel) and only if the frame has room for it, so that no byte lands outside the
   * block, whatever the frame holds; and only if no earlier record of the frame names the page
   * (they are applied after the frame has been read, and must come first). At the first record that
   * the scan does not take as valid, the rest of the frame is read into the buffer, for {@link
   * #next()} to reject once the checksum holds, as before.
   */
  private int streamFrame(int length) throws IOException {
    frameLength = length;
    received = 0;
    crc.reset();
    BE32.set(crcPrefix, 0, frames);
    BE32.set(crcPrefix, 4, length);
    crc.update(crcPrefix, 0, crcPrefix.length);
    touchedBlock = -1;
    scanFrame();
    fill(length, 0);
    watcher.frameRead();
    return (int) crc.getValue();
  }

  private void scanFrame() throws IOException {
    int at = 0;
    int scanBlock = blockIndex;
    while (at < frameLength) {
      if (!scanFill(at + WORD_BYTES)) {
        return;
      }
      long word = (long) BE64.get(buffer, at);
      int flags = (int) (word & FLAG_BITS);
      int kind = flags & ~FLAG_CONTINUE;
      if ((flags & ~KNOWN_FLAGS) != 0
          || (kind != ZERO && kind != PAGE && kind != ENCODED && kind != DIGEST)) {
        return; // EOS, which ends the frame, or an invalid record
      }
      int next = at + WORD_BYTES;
      int id = scanBlock;
      if ((flags & FLAG_CONTINUE) == 0) {
        if (!scanFill(next + BLOCK_ID_BYTES)) {
          return;
        }
        id = (int) BE32.get(buffer, next);
        next += BLOCK_ID_BYTES;
      }
      if (id < 0 || id >= blocks.length) {
        return;
      }
      RamBlock target = blocks[id];
      long offset = word & ~FLAG_BITS;
      if (Long.compareUnsigned(offset, target.usedLength()) >= 0) {
        return;
      }
      long targetPage = offset >>> PAGE_SHIFT;
      if (StreamFormat.channelOf(id, targetPage, channelCount) != channel) {
        return;
      }
      if (kind == PAGE) {
        if (frameLength - next < PAGE_SIZE) {
          return;
        }
        if (next == received && !touched(id, targetPage)) {
          land(next, target, targetPage);
        } else {
          touch(id, targetPage, targetPage);
        }
        next += PAGE_SIZE;
        readAhead = 0;
      } else {
        if (kind == ZERO) {
          next += 1;
          touch(id, targetPage, targetPage);
        } else if (kind == ENCODED) {
          if (!scanFill(next + ENCODED_HEADER_BYTES)) {
            return;
          }
          int length = Short.toUnsignedInt((short) BE16.get(buffer, next + 1));
          if (length == 0 || length > MAX_ENCODED_BYTES) {
            return;
          }
          next += ENCODED_HEADER_BYTES + length;
          touch(id, targetPage, targetPage);
        } else {
          if (!scanFill(next + MASK_BYTES)) {
            return;
          }
          long mask = (long) BE64.get(buffer, next);
          next += MASK_BYTES + Long.bitCount(mask) * CHECKSUM_BYTES;
          touch(id, targetPage, targetPage + STRIPE_PAGES - 1);
        }
        readAhead = READ_AHEAD_BYTES;
      }
      if (next > frameLength) {
        return;
      }
      scanBlock = id;
      at = next;
    }
  }

  private boolean touched(int id, long page) {
    return touchedBlock == -2 || (touchedBlock == id && page >= touchedLow && page <= touchedHigh);
  }

  private void touch(int id, long low, long high) {
    if (touchedBlock == -1) {
      touchedBlock = id;
      touchedLow = low;
      touchedHigh = high;
    } else if (touchedBlock != id) {
      touchedBlock = -2;
    } else {
      touchedLow = Math.min(touchedLow, low);
      touchedHigh = Math.max(touchedHigh, high);
    }
  }

  /** Whether the frame holds {@code end} bytes; if so, reads them into the buffer. */
  private boolean scanFill(int end) throws IOException {
    if (end > frameLength) {
      return false;
    }
    fill(end, readAhead);
    return true;
  }

  /**
   * Reads the frame into the buffer up to {@code end}, and up to {@code ahead} bytes past it if
   * they come in the same read, checksumming them as they arrive.
   */
  private void fill(int end, int ahead) throws IOException {
    int most = (int) Math.min(frameLength, (long) end + ahead);
    while (received < end) {
      int read = in.read(buffer, received, most - received);
      if (read < 0) {
        throw truncatedFrame(received);
      }
      crc.update(buffer, received, read);
      received += read;
      inputBytes += read;
    }
  }

  /**
   * Reads the payload of the PAGE record at {@code at} in the frame straight into its page, with
   * the next record word after it (if the frame holds one) into the buffer, and checksums both.
   */
  private void land(int at, RamBlock block, long targetPage) throws IOException {
    ByteBuffer page = landing.landingPage(block, targetPage);
    int aheadFrom = at + PAGE_SIZE;
    bufferView.limit(Math.min(frameLength, aheadFrom + WORD_BYTES)).position(aheadFrom);
    scatterTargets[0] = page;
    scatterTargets[1] = bufferView;
    try {
      while (page.hasRemaining()) {
        long read;
        try {
          read = scatter.read(scatterTargets);
        } catch (IOException e) {
          throw landing.landingFailed(block, targetPage, e);
        }
        if (read < 0) {
          throw truncatedFrame(at + page.position());
        }
      }
    } finally {
      scatterTargets[0] = null;
    }
    crc.update(page.flip());
    int ahead = bufferView.position() - aheadFrom;
    crc.update(buffer, aheadFrom, ahead);
    received = aheadFrom + ahead;
    inputBytes += PAGE_SIZE + ahead;
    inPlace[inPlaceCount++] = at;
  }

  private MigrationStreamException truncatedFrame(int done) {
    return frameError(
        inputBytes + done - received,
        "stream truncated in frame of "
            + frameLength
            + " bytes: "
            + frameLength
            + " bytes needed, "
            + done
            + " read");
  }

  /** Whether the header has been read, so that the frames now are records. */
  private boolean headerDone() {
    return blocks != null || tableRead;
  }

  /** Decompresses the frame in {@link #compressed} into {@link #buffer}; returns its length. */
  private int decompress(long headerAt, int length) throws MigrationStreamException {
    ByteBuffer target = ByteBuffer.wrap(buffer);
    try {
      decompressor.decompress(ByteBuffer.wrap(compressed, 0, length), target);
    } catch (RuntimeException e) {
      throw frameError(
          headerAt,
          "frame "
              + (frames - 1)
              + " of "
              + length
              + " bytes does not decompress with "
              + frameCodec
              + ": "
              + e.getMessage());
    }
    if (target.position() == 0) {
      throw frameError(headerAt, "frame " + (frames - 1) + " decompresses to nothing");
    }
    return target.position();
  }

  /** Reads exactly {@code length} bytes into {@code into}, or fails naming what was cut short. */
  private void readFully(byte[] into, int length, String what) throws IOException {
    int done = 0;
    while (done < length) {
      int read = in.read(into, done, length - done);
      if (read < 0) {
        throw frameError(
            inputBytes,
            "stream truncated in " + what + ": " + length + " bytes needed, " + done + " read");
      }
      done += read;
      inputBytes += read;
    }
  }

  private MigrationStreamException headerError(int fieldOffset, String problem) {
    return new MigrationStreamException(problem, bytesRead() + fieldOffset, -1);
  }

  private MigrationStreamException recordError(String problem) {
    return new MigrationStreamException(problem, recordStart, recordIndex);
  }

  private MigrationStreamException error(String problem) {
    return new MigrationStreamException(problem, bytesRead(), recordIndex);
  }

  private MigrationStreamException frameError(long at, String problem) {
    return new MigrationStreamException(problem, at, recordIndex);
  }
}
