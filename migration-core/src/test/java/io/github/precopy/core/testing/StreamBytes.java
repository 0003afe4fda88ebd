package io.github.precopy.core.testing;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * Builds stream bytes by hand from the documented version 2 format, independently of {@link
 * MigrationStreamWriter} and {@link StreamFormat}, so tests can state exact layouts and hostile
 * variants; and decodes them again, just as independently, so tests can check what an encoder
 * produced.
 *
 * <p>A builder collects the unframed payload (channel header, block table, records). {@link
 * #toByteArray()} emits the prelude and that payload as one frame, or as several frames split where
 * {@link #frameBreak()} was called; {@link #unframed()} gives the payload bytes alone, for building
 * prelude- and frame-level hostile cases with {@link #prelude(long, int)} and {@link #frame}.
 */
public final class StreamBytes {

  public static final long MAGIC = 0x505245434F505900L;
  public static final int VERSION = 2;
  public static final int PAGE_SIZE = 4096;
  public static final int ZERO = 0x02;
  public static final int PAGE = 0x08;
  public static final int EOS = 0x10;
  public static final int CONTINUE = 0x20;
  public static final int DIGEST = 0x40;
  public static final int PRELUDE_BYTES = 12;
  public static final int FRAME_HEADER_BYTES = 8;
  public static final int HEADER_BYTES = 20;
  public static final int EOS_BYTES = 24;
  public static final int MAX_FRAME_BYTES = 1 << 20;
  public static final int STRIPE_PAGES = 64;

  private final ByteArrayOutputStream payload = new ByteArrayOutputStream();
  private final DataOutputStream out = new DataOutputStream(payload);
  private final TreeSet<Integer> breaks = new TreeSet<>();

  /** A correct single-channel header for {@code memory}'s blocks, migration id 0. */
  public static StreamBytes header(GuestMemory memory) {
    return header(memory, 0, 0, 1);
  }

  /**
   * A correct header for {@code memory}'s blocks as channel {@code channel} of {@code channels}.
   */
  public static StreamBytes header(
      GuestMemory memory, long migrationId, int channel, int channels) {
    StreamBytes stream =
        headerFields(PAGE_SIZE, migrationId, channel, channels, memory.blocks().size());
    for (RamBlock block : memory.blocks()) {
      stream.blockEntry(block.name(), block.guestAddress(), block.usedLength());
    }
    return stream;
  }

  /** The 20 fixed header bytes with any values, and no block table. */
  public static StreamBytes headerFields(
      int pageSize, long migrationId, int channel, int channels, int blockCount) {
    return new StreamBytes()
        .u32(pageSize)
        .u64(migrationId)
        .u16(channel)
        .u16(channels)
        .u32(blockCount);
  }

  /** The 20 fixed header bytes of a correct single-channel header of {@code blockCount} blocks. */
  public static StreamBytes headerWithCount(int blockCount) {
    return headerFields(PAGE_SIZE, 0, 0, 1, blockCount);
  }

  public StreamBytes blockEntry(String name, long guestAddress, long usedLength) {
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    return u16(utf8.length).bytes(utf8).u64(guestAddress).u64(usedLength);
  }

  /** A ZERO record naming block {@code id} (no CONTINUE): 13 bytes. */
  public StreamBytes zero(int id, long page, int fill) {
    return u64(page * PAGE_SIZE | ZERO).u32(id).u8(fill);
  }

  /** A ZERO record for the previous block: 9 bytes. */
  public StreamBytes zeroContinue(long page, int fill) {
    return u64(page * PAGE_SIZE | ZERO | CONTINUE).u8(fill);
  }

  /** A PAGE record naming block {@code id} whose every byte is {@code fill}: 4108 bytes. */
  public StreamBytes page(int id, long page, int fill) {
    return page(id, page, filledPage(fill));
  }

  /** A PAGE record naming block {@code id} carrying {@code data} (4096 bytes). */
  public StreamBytes page(int id, long page, byte[] data) {
    checkPage(data);
    return u64(page * PAGE_SIZE | PAGE).u32(id).bytes(data);
  }

  /** A PAGE record for the previous block whose every byte is {@code fill}: 4104 bytes. */
  public StreamBytes pageContinue(long page, int fill) {
    return u64(page * PAGE_SIZE | PAGE | CONTINUE).bytes(filledPage(fill));
  }

  /**
   * A DIGEST record naming block {@code id} for the stripe at {@code firstPage}: mask, then the
   * given checksums as they are (callers choose how many, to build hostile records too).
   */
  public StreamBytes digest(int id, long firstPage, long mask, int... checksums) {
    u64(firstPage * PAGE_SIZE | DIGEST).u32(id).u64(mask);
    for (int checksum : checksums) {
      u32(checksum);
    }
    return this;
  }

  /** A DIGEST record for the previous block. */
  public StreamBytes digestContinue(long firstPage, long mask, int... checksums) {
    u64(firstPage * PAGE_SIZE | DIGEST | CONTINUE).u64(mask);
    for (int checksum : checksums) {
      u32(checksum);
    }
    return this;
  }

  /** The end-of-stream record: 24 bytes. */
  public StreamBytes eos(long pageRecords, long digestPages) {
    return u64(EOS).u64(pageRecords).u64(digestPages);
  }

  public StreamBytes u8(int value) {
    return run(() -> out.writeByte(value));
  }

  public StreamBytes u16(int value) {
    return run(() -> out.writeShort(value));
  }

  public StreamBytes u32(int value) {
    return run(() -> out.writeInt(value));
  }

  public StreamBytes u64(long value) {
    return run(() -> out.writeLong(value));
  }

  public StreamBytes bytes(byte[] value) {
    return run(() -> out.write(value));
  }

  /** Ends the current frame here: what follows goes into a new frame. */
  public StreamBytes frameBreak() {
    breaks.add(payload.size());
    return this;
  }

  /** Payload bytes so far. */
  public int size() {
    return payload.size();
  }

  /** The payload bytes alone: no prelude, no frame headers. */
  public byte[] unframed() {
    return payload.toByteArray();
  }

  /**
   * Prelude, then the payload in one frame, or in several where {@link #frameBreak()} was called.
   */
  public byte[] toByteArray() {
    return framed(unframed(), breaks.stream().mapToInt(Integer::intValue).toArray());
  }

  // ---------------------------------------------------------------- framing

  /** The correct prelude. */
  public static byte[] prelude() {
    return prelude(MAGIC, VERSION);
  }

  public static byte[] prelude(long magic, int version) {
    return ByteBuffer.allocate(PRELUDE_BYTES).putLong(magic).putInt(version).array();
  }

  /**
   * The CRC32C of the 4 big-endian bytes of the frame's index in its channel, the 4 of {@code
   * length}, then {@code bytes[from, to)}.
   */
  public static int frameChecksum(int index, int length, byte[] bytes, int from, int to) {
    CRC32C crc = new CRC32C();
    crc.update(ByteBuffer.allocate(8).putInt(index).putInt(length).array());
    crc.update(bytes, from, to - from);
    return (int) crc.getValue();
  }

  /**
   * Frame number {@code index} of its channel, header and payload, holding {@code payload[from,
   * to)} with its correct checksum.
   */
  public static byte[] frame(int index, byte[] payload, int from, int to) {
    int length = to - from;
    return frame(length, frameChecksum(index, length, payload, from, to), payload, from, to);
  }

  /** The first frame of a channel, holding all of {@code payload}. */
  public static byte[] frame(byte[] payload) {
    return frame(0, payload, 0, payload.length);
  }

  /** A frame header with any length and checksum, followed by {@code payload[from, to)}. */
  public static byte[] frame(int length, int checksum, byte[] payload, int from, int to) {
    return ByteBuffer.allocate(FRAME_HEADER_BYTES + to - from)
        .putInt(length)
        .putInt(checksum)
        .put(payload, from, to - from)
        .array();
  }

  /**
   * The prelude and {@code payload} framed with correct checksums, split at the ascending payload
   * offsets {@code cuts} (cuts at 0, at the end or repeated are ignored: no frame is empty).
   */
  public static byte[] framed(byte[] payload, int... cuts) {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    stream.writeBytes(prelude());
    int from = 0;
    int index = 0;
    int[] ends = Arrays.copyOf(cuts, cuts.length + 1);
    ends[cuts.length] = payload.length;
    for (int end : ends) {
      if (end > from) {
        if (end - from > MAX_FRAME_BYTES) {
          throw new IllegalArgumentException("frame of " + (end - from) + " bytes");
        }
        stream.writeBytes(frame(index++, payload, from, end));
        from = end;
      }
    }
    return stream.toByteArray();
  }

  public static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      stream.writeBytes(part);
    }
    return stream.toByteArray();
  }

  /** The CRC32C of a page's bytes, as a DIGEST record carries it. */
  public static int pageChecksum(byte[] page) {
    checkPage(page);
    CRC32C crc = new CRC32C();
    crc.update(page);
    return (int) crc.getValue();
  }

  /** The CRC32C of a page whose every byte is {@code fill}. */
  public static int pageChecksum(int fill) {
    return pageChecksum(filledPage(fill));
  }

  public static byte[] filledPage(int fill) {
    byte[] data = new byte[PAGE_SIZE];
    Arrays.fill(data, (byte) fill);
    return data;
  }

  private static void checkPage(byte[] page) {
    if (page.length != PAGE_SIZE) {
      throw new IllegalArgumentException("page of " + page.length + " bytes");
    }
  }

  // ---------------------------------------------------------------- decoding

  /** A frame of a decoded stream: where its header starts in the stream, and its payload length. */
  public record Frame(int streamOffset, int length) {
    public int payloadOffset() {
      return streamOffset + FRAME_HEADER_BYTES;
    }

    public int end() {
      return payloadOffset() + length;
    }
  }

  /**
   * A record of a decoded stream: its kind (ZERO, PAGE, DIGEST or EOS), whether CONTINUE was set,
   * the block id it applies to (-1 for EOS), its page (first page for DIGEST), the DIGEST mask,
   * where it starts in the stream, where its payload (fill byte, page, mask and checksums, EOS
   * counts) starts and how long that is.
   */
  public record Record(
      int kind,
      boolean continued,
      int block,
      long page,
      long mask,
      int streamOffset,
      int payloadOffset,
      int payloadLength) {
    public int end() {
      return payloadOffset + payloadLength;
    }
  }

  /** A decoded channel: its header fields, block count, frames and records, in stream order. */
  public record Decoded(
      long migrationId,
      int channel,
      int channels,
      int blockCount,
      int headerEnd,
      List<Frame> frames,
      List<Record> records) {

    /** The records of one kind. */
    public List<Record> records(int kind) {
      return records.stream().filter(r -> r.kind() == kind).toList();
    }
  }

  /**
   * Decodes a well-formed channel strictly, checking the prelude, every frame checksum, that no
   * unit spans two frames and that the EOS record ends the stream; fails with {@link
   * AssertionError} otherwise. For checking encoders, not for hostile input.
   */
  public static Decoded decode(byte[] stream) {
    ByteBuffer in = ByteBuffer.wrap(stream);
    require(in.remaining() >= PRELUDE_BYTES, "prelude");
    require(in.getLong() == MAGIC, "magic");
    require(in.getInt() == VERSION, "version");
    List<Frame> frames = new ArrayList<>();
    while (in.hasRemaining()) {
      int at = in.position();
      require(in.remaining() >= FRAME_HEADER_BYTES, "frame header at " + at);
      int length = in.getInt();
      int checksum = in.getInt();
      require(length > 0 && length <= MAX_FRAME_BYTES, "frame length " + length + " at " + at);
      require(in.remaining() >= length, "frame payload at " + at);
      require(
          frameChecksum(frames.size(), length, stream, in.position(), in.position() + length)
              == checksum,
          "checksum of frame at " + at);
      frames.add(new Frame(at, length));
      in.position(in.position() + length);
    }
    Units units = new Units(stream, frames);
    units.start(HEADER_BYTES);
    require(units.in.getInt() == PAGE_SIZE, "page size");
    long migrationId = units.in.getLong();
    int channel = Short.toUnsignedInt(units.in.getShort());
    int channels = Short.toUnsignedInt(units.in.getShort());
    int blockCount = units.in.getInt();
    for (int i = 0; i < blockCount; i++) {
      int nameLength = Short.toUnsignedInt(units.peekShort());
      units.start(2 + nameLength + 16);
      units.in.position(units.in.position() + 2 + nameLength + 16);
    }
    int headerEnd = units.in.position();
    List<Record> records = new ArrayList<>();
    int block = -1;
    while (true) {
      int kindAt = units.peekWordFlags();
      int kind = kindAt & ~CONTINUE;
      boolean continued = (kindAt & CONTINUE) != 0;
      int fixed =
          switch (kind) {
            case ZERO -> 8 + (continued ? 0 : 4) + 1;
            case PAGE -> 8 + (continued ? 0 : 4) + PAGE_SIZE;
            case DIGEST -> 8 + (continued ? 0 : 4) + 8;
            case EOS -> EOS_BYTES;
            default -> throw new AssertionError("record kind 0x" + Integer.toHexString(kindAt));
          };
      int start = units.in.position();
      units.start(fixed);
      if (kind == DIGEST) {
        fixed += 4 * Long.bitCount(units.in.getLong(start + fixed - 8));
        units.start(fixed);
      }
      long word = units.in.getLong();
      if (kind == EOS) {
        records.add(new Record(EOS, false, -1, 0, 0, start, start + 8, 16));
        units.in.position(start + EOS_BYTES);
        break;
      }
      if (!continued) {
        block = units.in.getInt();
      }
      require(block >= 0, "CONTINUE with no block at " + start);
      int payloadAt = units.in.position();
      long mask = kind == DIGEST ? units.in.getLong(payloadAt) : 0;
      records.add(
          new Record(
              kind,
              continued,
              block,
              (word & ~0xFFFL) / PAGE_SIZE,
              mask,
              start,
              payloadAt,
              start + fixed - payloadAt));
      units.in.position(start + fixed);
    }
    Frame last = frames.get(frames.size() - 1);
    require(units.in.position() == last.end(), "EOS is the last unit of the last frame");
    return new Decoded(
        migrationId, channel, channels, blockCount, headerEnd, List.copyOf(frames), records);
  }

  /** The payloads of a well-formed channel, concatenated: what {@link #unframed()} would give. */
  public static byte[] payloadOf(byte[] stream) {
    ByteArrayOutputStream payload = new ByteArrayOutputStream();
    for (Frame frame : decode(stream).frames()) {
      payload.write(stream, frame.payloadOffset(), frame.length());
    }
    return payload.toByteArray();
  }

  /** The payload offsets at which a well-formed channel's frames are split. */
  public static int[] cutsOf(byte[] stream) {
    List<Frame> frames = decode(stream).frames();
    int[] cuts = new int[frames.size() - 1];
    int at = 0;
    for (int i = 0; i < cuts.length; i++) {
      at += frames.get(i).length();
      cuts[i] = at;
    }
    return cuts;
  }

  /** Walks the units of a framed stream, requiring that each lies within one frame. */
  private static final class Units {
    final ByteBuffer in;
    final List<Frame> frames;
    int frame = -1;

    Units(byte[] stream, List<Frame> frames) {
      this.in = ByteBuffer.wrap(stream);
      this.frames = frames;
    }

    /** Moves to the next frame if this one is used up, and requires {@code bytes} left in it. */
    void start(int bytes) {
      if (frame < 0 || in.position() == frames.get(frame).end()) {
        frame++;
        require(frame < frames.size(), "a unit after the last frame");
        in.position(frames.get(frame).payloadOffset());
      }
      require(
          frames.get(frame).end() - in.position() >= bytes,
          "unit of " + bytes + " bytes at " + in.position() + " runs past its frame");
    }

    short peekShort() {
      start(2);
      return in.getShort(in.position());
    }

    public int peekWordFlags() {
      start(8);
      return (int) (in.getLong(in.position()) & 0xFFF);
    }
  }

  private static void require(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError("malformed stream: " + what);
    }
  }

  private StreamBytes run(IoAction action) {
    try {
      action.run();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  private interface IoAction {
    void run() throws IOException;
  }
}
