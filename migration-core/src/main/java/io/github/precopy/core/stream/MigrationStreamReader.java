package io.github.precopy.core.stream;

import static io.github.precopy.core.stream.StreamFormat.BE16;
import static io.github.precopy.core.stream.StreamFormat.BE32;
import static io.github.precopy.core.stream.StreamFormat.BE64;
import static io.github.precopy.core.stream.StreamFormat.BLOCK_ID_BYTES;
import static io.github.precopy.core.stream.StreamFormat.EOS_PAYLOAD_BYTES;
import static io.github.precopy.core.stream.StreamFormat.FLAG_BITS;
import static io.github.precopy.core.stream.StreamFormat.FLAG_CONTINUE;
import static io.github.precopy.core.stream.StreamFormat.FLAG_EOS;
import static io.github.precopy.core.stream.StreamFormat.FLAG_PAGE;
import static io.github.precopy.core.stream.StreamFormat.FLAG_ZERO;
import static io.github.precopy.core.stream.StreamFormat.HEADER_BYTES;
import static io.github.precopy.core.stream.StreamFormat.KNOWN_FLAGS;
import static io.github.precopy.core.stream.StreamFormat.MAGIC;
import static io.github.precopy.core.stream.StreamFormat.MAX_BLOCKS;
import static io.github.precopy.core.stream.StreamFormat.MAX_NAME_BYTES;
import static io.github.precopy.core.stream.StreamFormat.PAGE_SHIFT;
import static io.github.precopy.core.stream.StreamFormat.PAGE_SIZE;
import static io.github.precopy.core.stream.StreamFormat.VERSION;
import static io.github.precopy.core.stream.StreamFormat.WORD_BYTES;

import io.github.precopy.core.RamBlock;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Decodes and validates a migration stream against the destination's RAM blocks, one record at a
 * time, without allocating per record. A record returned by {@link #next()} is valid: its block is
 * in the table and its page inside the block's used length; a PAGE payload is complete in {@link
 * #buffer()} at {@link #payloadOffset()} until the next call.
 *
 * <p>Reads at most {@code buffer.length} bytes ahead; every length it acts on is bounded by fixed
 * limits (a page, a 255-byte name, 4096 blocks). End of input anywhere but after the end-of-stream
 * record is an error, never a wait. Not thread-safe.
 */
final class MigrationStreamReader {

  static final int ZERO = FLAG_ZERO;
  static final int PAGE = FLAG_PAGE;
  static final int EOS = FLAG_EOS;

  private static final int BUFFER_BYTES = 256 * 1024;

  private final InputStream in;
  private final byte[] buffer = new byte[BUFFER_BYTES];
  private int position;
  private int limit;
  private long discardedBytes;

  private RamBlock[] blocks;
  private long recordIndex = -1;
  private long recordStart;
  private long pageRecords;
  private RamBlock block;
  private long page;
  private byte fill;
  private int payloadOffset;

  MigrationStreamReader(InputStream in) {
    this.in = in;
  }

  /** Reads the header and checks that it describes exactly {@code expected}, in order. */
  void readHeader(List<RamBlock> expected) throws IOException {
    ensure(HEADER_BYTES, "header");
    long magic = (long) BE64.get(buffer, position);
    if (magic != MAGIC) {
      throw headerError(0, "bad magic 0x" + Long.toHexString(magic) + ", not a precopy stream");
    }
    int version = (int) BE32.get(buffer, position + 8);
    if (version != VERSION) {
      throw headerError(8, "unsupported version " + version + ", this decoder reads " + VERSION);
    }
    int pageSize = (int) BE32.get(buffer, position + 12);
    if (pageSize != PAGE_SIZE) {
      throw headerError(12, "page size " + pageSize + ", destination uses " + PAGE_SIZE);
    }
    int count = (int) BE32.get(buffer, position + 16);
    if (count <= 0 || count > MAX_BLOCKS) {
      throw headerError(
          16, "block count " + Integer.toUnsignedString(count) + " not in [1, " + MAX_BLOCKS + "]");
    }
    if (count != expected.size()) {
      throw headerError(
          16, "stream has " + count + " RAM blocks, destination has " + expected.size());
    }
    position += HEADER_BYTES;
    for (int i = 0; i < count; i++) {
      readBlockEntry(i, expected.get(i));
    }
    blocks = expected.toArray(new RamBlock[0]);
  }

  private void readBlockEntry(int index, RamBlock expected) throws IOException {
    ensure(2, "block table");
    int nameLength = Short.toUnsignedInt((short) BE16.get(buffer, position));
    if (nameLength == 0 || nameLength > MAX_NAME_BYTES) {
      throw headerError(
          0,
          "block " + index + ": name length " + nameLength + " not in [1, " + MAX_NAME_BYTES + "]");
    }
    ensure(2 + nameLength + 16, "block table");
    int nameAt = position + 2;
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
    int at = nameAt + nameLength;
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
  }

  /**
   * Decodes the next record and returns its kind: {@link #ZERO}, {@link #PAGE} or {@link #EOS}
   * (whose page count has then been checked).
   */
  int next() throws IOException {
    recordIndex++;
    recordStart = bytesRead();
    ensure(WORD_BYTES, "record word");
    long word = (long) BE64.get(buffer, position);
    position += WORD_BYTES;
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
    if (kind == ZERO || kind == PAGE) {
      readPageRecord(flags, offset, kind);
    } else if (kind == EOS) {
      readEndOfStream(word);
    } else {
      throw recordError(
          "flags 0x" + Integer.toHexString(flags) + " do not name exactly one of ZERO, PAGE, EOS");
    }
    return kind;
  }

  private void readPageRecord(int flags, long offset, int kind) throws IOException {
    RamBlock target;
    if ((flags & FLAG_CONTINUE) != 0) {
      target = block;
      if (target == null) {
        throw recordError("CONTINUE with no previous block");
      }
    } else {
      ensure(BLOCK_ID_BYTES, "block id");
      int id = (int) BE32.get(buffer, position);
      position += BLOCK_ID_BYTES;
      if (id < 0 || id >= blocks.length) {
        throw recordError(
            "block id "
                + Integer.toUnsignedString(id)
                + " not in the block table of "
                + blocks.length);
      }
      target = blocks[id];
    }
    if (Long.compareUnsigned(offset, target.usedLength()) >= 0) {
      throw recordError(
          "offset 0x"
              + Long.toHexString(offset)
              + " not below used length 0x"
              + Long.toHexString(target.usedLength())
              + " of block "
              + target.name());
    }
    if (kind == ZERO) {
      ensure(1, "ZERO fill byte");
      fill = buffer[position++];
    } else {
      ensure(PAGE_SIZE, "PAGE payload");
      payloadOffset = position;
      position += PAGE_SIZE;
    }
    block = target;
    page = offset >>> PAGE_SHIFT;
    pageRecords++;
  }

  private void readEndOfStream(long word) throws IOException {
    if (word != FLAG_EOS) {
      throw recordError("end-of-stream word 0x" + Long.toHexString(word) + " is not 0x10");
    }
    ensure(EOS_PAYLOAD_BYTES, "end-of-stream page count");
    long sent = (long) BE64.get(buffer, position);
    position += EOS_PAYLOAD_BYTES;
    if (sent != pageRecords) {
      throw recordError(
          "end of stream counts "
              + Long.toUnsignedString(sent)
              + " page records, stream held "
              + pageRecords);
    }
  }

  /** Checks that the input ends right after the end-of-stream record; waits for end of input. */
  void expectEnd() throws IOException {
    if (position < limit || in.read() >= 0) {
      throw new MigrationStreamException(
          "bytes follow the end-of-stream record", bytesRead(), recordIndex + 1);
    }
  }

  /** The block of the last ZERO or PAGE record. */
  RamBlock block() {
    return block;
  }

  /** The page index (within {@link #block()}) of the last ZERO or PAGE record. */
  long page() {
    return page;
  }

  /** The fill byte of the last ZERO record. */
  byte fill() {
    return fill;
  }

  /** The buffer that holds the last PAGE record's payload. */
  byte[] buffer() {
    return buffer;
  }

  /** Where the last PAGE record's payload starts in {@link #buffer()}. */
  int payloadOffset() {
    return payloadOffset;
  }

  /** Bytes decoded so far. */
  long bytesRead() {
    return discardedBytes + position;
  }

  /** Makes {@code bytes} unread bytes available in the buffer, or fails on end of input. */
  private void ensure(int bytes, String what) throws IOException {
    if (limit - position >= bytes) {
      return;
    }
    if (buffer.length - position < bytes) {
      System.arraycopy(buffer, position, buffer, 0, limit - position);
      discardedBytes += position;
      limit -= position;
      position = 0;
    }
    while (limit - position < bytes) {
      int read = in.read(buffer, limit, buffer.length - limit);
      if (read < 0) {
        String problem =
            "stream truncated in "
                + what
                + ": "
                + bytes
                + " bytes needed, "
                + (limit - position)
                + " left";
        throw recordIndex < 0
            ? new MigrationStreamException(problem, bytesRead(), -1)
            : recordError(problem);
      }
      limit += read;
    }
  }

  private MigrationStreamException headerError(int fieldOffset, String problem) {
    return new MigrationStreamException(problem, bytesRead() + fieldOffset, -1);
  }

  private MigrationStreamException recordError(String problem) {
    return new MigrationStreamException(problem, recordStart, recordIndex);
  }
}
