package io.github.precopy.core.transport;

import static io.github.precopy.core.testing.StreamBytes.concat;
import static io.github.precopy.core.testing.StreamBytes.frame;
import static io.github.precopy.core.testing.StreamBytes.framed;
import static io.github.precopy.core.testing.StreamBytes.header;
import static io.github.precopy.core.testing.StreamBytes.headerFields;
import static io.github.precopy.core.testing.StreamBytes.headerWithCount;
import static io.github.precopy.core.testing.StreamBytes.prelude;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.stream.MigrationStreamException;
import io.github.precopy.core.stream.MigrationStreamWriter;
import io.github.precopy.core.testing.StreamBytes;
import io.github.precopy.core.testing.TestMemories;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hand-made malformed streams against a destination of two blocks (pc.ram: 4 pages at 0x100000,
 * vga.vram: 2 pages at 0x800000) whose every byte is 0x5A. Records that precede the bad one only
 * write 0x5A, and records in a frame that is rejected write 0x00, so the memory must still be all
 * 0x5A afterwards: nothing outside the stream's valid records was touched, and no record of a
 * corrupted frame was applied.
 *
 * <p>Every stream is framed with correct checksums unless the case is about the framing, so that
 * record-level cases reach the record validator. In the documented layout the header payload of
 * this memory is 20 + (18 + 6) + (18 + 8) = 70 bytes, and the first record starts at stream byte 12
 * + 8 + 70 = 90.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
final class HostileStreamTest {

  private static final byte PATTERN = 0x5A;
  private static final int HEADER = 70;
  private static final int CRC_OF_PATTERN = StreamBytes.pageChecksum(PATTERN);

  private GuestMemory memory;

  @BeforeEach
  void setUp() {
    memory = layout();
    for (var block : memory.blocks()) {
      memory.fill(block.guestAddress(), block.usedLength(), PATTERN);
    }
  }

  @AfterEach
  void tearDown() {
    memory.close();
  }

  private static GuestMemory layout() {
    return GuestMemory.builder()
        .anonymousBlock("pc.ram", 0x100000, 4 * 4096)
        .anonymousBlock("vga.vram", 0x800000, 2 * 4096)
        .build();
  }

  static Stream<Arguments> malformedPreludesAndFrames() {
    try (GuestMemory layout = layout()) {
      byte[] header = header(layout).unframed();
      int headerCrc = StreamBytes.frameChecksum(0, HEADER, header, 0, HEADER);
      byte[] records = header(layout).zero(0, 0, 0).zeroContinue(1, 0).eos(2, 0).unframed();
      int recordsCrc = StreamBytes.frameChecksum(1, 46, records, HEADER, records.length);
      return Stream.of(
          arguments(
              "empty input", new byte[0], "stream truncated in prelude: 12 bytes needed, 0 read"),
          arguments(
              "prelude cut short",
              Arrays.copyOf(prelude(), 7),
              "stream truncated in prelude: 12 bytes needed, 7 read"),
          arguments(
              "bad magic",
              concat(prelude(0x5145564D00000003L, 2), frame(header)),
              "bad magic 0x5145564d00000003, not a precopy stream"),
          arguments(
              "version 1",
              concat(prelude(StreamBytes.MAGIC, 1), frame(header)),
              "unsupported version 1, this decoder reads 2"),
          arguments(
              "version 3",
              concat(prelude(StreamBytes.MAGIC, 3), frame(header)),
              "unsupported version 3, this decoder reads 2"),
          arguments(
              "prelude without a frame",
              prelude(),
              "stream truncated in frame header before header: 8 bytes needed, 0 read"),
          arguments(
              "frame header cut short",
              concat(prelude(), new byte[] {0, 0, 0, HEADER, 1}),
              "stream truncated in frame header before header: 8 bytes needed, 5 read"),
          arguments(
              "frame length 0",
              concat(
                  prelude(), frame(0, StreamBytes.frameChecksum(0, 0, header, 0, 0), header, 0, 0)),
              "frame length 0 not in [1, 1048576]"),
          arguments(
              "frame length 1 MiB + 1",
              concat(prelude(), frame((1 << 20) + 1, headerCrc, header, 0, HEADER)),
              "frame length 1048577 not in [1, 1048576]"),
          arguments(
              "frame length 2^31",
              concat(prelude(), frame(Integer.MIN_VALUE, headerCrc, header, 0, HEADER)),
              "frame length 2147483648 not in [1, 1048576]"),
          arguments(
              "header frame checksum mismatch",
              concat(prelude(), frame(HEADER, headerCrc ^ 1, header, 0, HEADER)),
              "frame checksum 0x"
                  + Integer.toHexString(headerCrc ^ 1)
                  + " does not match its 70 bytes (0x"
                  + Integer.toHexString(headerCrc)
                  + ") as frame 0 of its channel: the stream is corrupted"),
          arguments(
              "a frame of zeroing records with a checksum mismatch is not applied",
              concat(
                  prelude(),
                  frame(0, records, 0, HEADER),
                  frame(46, recordsCrc ^ 0x10000, records, HEADER, records.length)),
              "does not match its 46 bytes"),
          arguments(
              "frame length one short of its payload",
              concat(prelude(), frame(HEADER - 1, headerCrc, header, 0, HEADER)),
              "frame checksum"),
          arguments(
              "frame payload cut short",
              concat(prelude(), frame(HEADER, headerCrc, header, 0, 50)),
              "stream truncated in frame of 70 bytes: 70 bytes needed, 50 read"),
          arguments(
              "header running past its frame",
              framed(header, 10),
              "header of 20 bytes runs past the end of its frame (10 bytes left)"),
          arguments(
              "block entry running past its frame",
              framed(header, 30),
              "block table of 24 bytes runs past the end of its frame (10 bytes left)"),
          arguments(
              "record word running past its frame",
              framed(header(layout).zero(0, 0, PATTERN).eos(1, 0).unframed(), HEADER + 4),
              "record word of 8 bytes runs past the end of its frame (4 bytes left)"),
          arguments(
              "a frame smaller than a record word",
              framed(header(layout).u32(0).unframed(), HEADER),
              "record word of 8 bytes runs past the end of its frame (4 bytes left)"),
          arguments(
              "PAGE record running past its frame",
              framed(header(layout).page(0, 1, PATTERN).eos(1, 0).unframed(), HEADER + 112),
              "PAGE payload of 4096 bytes runs past the end of its frame (100 bytes left)"),
          arguments(
              "DIGEST record running past its frame",
              framed(
                  header(layout)
                      .digest(0, 0, 0b11, CRC_OF_PATTERN, CRC_OF_PATTERN)
                      .eos(0, 2)
                      .unframed(),
                  HEADER + 24),
              "DIGEST checksums of 8 bytes runs past the end of its frame (4 bytes left)"),
          arguments(
              "EOS record running past its frame",
              framed(header(layout).eos(0, 0).unframed(), HEADER + 16),
              "end-of-stream counts of 16 bytes runs past the end of its frame (8 bytes left)"),
          arguments(
              "bytes after the EOS record in the same frame",
              header(layout).eos(0, 0).u8(0).toByteArray(),
              "bytes follow the end-of-stream record"),
          arguments(
              "a record after the EOS record in the same frame",
              header(layout).eos(0, 0).zero(0, 0, PATTERN).toByteArray(),
              "bytes follow the end-of-stream record"),
          arguments(
              "a frame after the EOS frame",
              header(layout).eos(0, 0).frameBreak().zero(0, 0, 0).toByteArray(),
              "bytes follow the end-of-stream record"),
          arguments(
              "a whole valid stream after the EOS frame",
              concat(
                  header(layout).eos(0, 0).toByteArray(), header(layout).eos(0, 0).toByteArray()),
              "bytes follow the end-of-stream record"));
    }
  }

  static Stream<Arguments> malformedHeaders() {
    return Stream.of(
        arguments(
            "page size 8192",
            headerFields(8192, 0, 0, 1, 2).toByteArray(),
            "page size 8192, destination uses 4096"),
        arguments(
            "channel count 0",
            headerFields(4096, 0, 0, 0, 2).toByteArray(),
            "channel 0 of 0 is not a channel of 1 to 64"),
        arguments(
            "channel count 65",
            headerFields(4096, 0, 0, 65, 2).toByteArray(),
            "channel 0 of 65 is not a channel of 1 to 64"),
        arguments(
            "channel index equal to the channel count",
            headerFields(4096, 0, 1, 1, 2).toByteArray(),
            "channel 1 of 1 is not a channel of 1 to 64"),
        arguments(
            "channel index 65535 of 2",
            headerFields(4096, 0, 0xFFFF, 2, 2).toByteArray(),
            "channel 65535 of 2 is not a channel of 1 to 64"),
        arguments("no blocks", headerWithCount(0).toByteArray(), "block count 0 not in [1, 4096]"),
        arguments(
            "absurd block count", headerWithCount(5000).toByteArray(), "block count 5000 not in"),
        arguments(
            "block count 2^32-1",
            headerWithCount(-1).toByteArray(),
            "block count 4294967295 not in"),
        arguments(
            "more blocks than the destination",
            headerWithCount(3).toByteArray(),
            "stream has 3 RAM blocks, destination has 2"),
        arguments(
            "empty block name",
            headerWithCount(2).u16(0).toByteArray(),
            "block 0: name length 0 not in [1, 255]"),
        arguments(
            "block name of 300 bytes",
            headerWithCount(2).u16(300).bytes(new byte[300]).toByteArray(),
            "block 0: name length 300 not in [1, 255]"),
        arguments(
            "other block name",
            headerWithCount(2).blockEntry("pc.rom", 0x100000, 4 * 4096).toByteArray(),
            "block 0 is named \"pc.rom\", destination's is \"pc.ram\""),
        arguments(
            "other guest address",
            headerWithCount(2).blockEntry("pc.ram", 0x200000, 4 * 4096).toByteArray(),
            "block pc.ram at guest address 0x200000, destination's at 0x100000"),
        arguments(
            "other used length",
            headerWithCount(2).blockEntry("pc.ram", 0x100000, 8 * 4096).toByteArray(),
            "block pc.ram has used length 32768, destination's has 16384"),
        arguments(
            "block table cut short",
            headerWithCount(2).blockEntry("pc.ram", 0x100000, 4 * 4096).toByteArray(),
            "stream truncated in frame header before block table: 8 bytes needed, 0 read"));
  }

  static Stream<Arguments> malformedRecords() {
    try (GuestMemory layout = layout()) {
      return Stream.of(
          arguments(
              "two channels to a single-channel receive",
              header(layout, 0, 0, 2).eos(0, 0).toByteArray(),
              "stream has 2 channels, destination receives 1"),
          arguments(
              "header only",
              header(layout).toByteArray(),
              "stream truncated in frame header before record word: 8 bytes needed, 0 read"),
          arguments(
              "block id past the table",
              header(layout).zero(2, 0, PATTERN).eos(1, 0).toByteArray(),
              "block id 2 not in the block table of 2"),
          arguments(
              "block id 2^32-1",
              header(layout).page(-1, 0, PATTERN).eos(1, 0).toByteArray(),
              "block id 4294967295 not in the block table of 2"),
          arguments(
              "CONTINUE before any block",
              header(layout).zeroContinue(0, PATTERN).eos(1, 0).toByteArray(),
              "CONTINUE with no previous block"),
          arguments(
              "offset at the used length",
              header(layout).zero(1, 2, PATTERN).eos(1, 0).toByteArray(),
              "offset 0x2000 not below used length 0x2000 of block vga.vram"),
          arguments(
              "offset past the used length after CONTINUE",
              header(layout).zero(1, 1, PATTERN).zeroContinue(5, PATTERN).eos(2, 0).toByteArray(),
              "offset 0x5000 not below used length 0x2000 of block vga.vram"),
          arguments(
              "offset with the top bit set",
              header(layout).u64(0xFFFFFFFFFFFFF000L | StreamBytes.PAGE).u32(0).toByteArray(),
              "offset 0xfffffffffffff000 not below used length 0x4000 of block pc.ram"),
          arguments(
              "offset not page-aligned",
              header(layout).u64(0x1000 + 0x100 | StreamBytes.ZERO).u32(0).toByteArray(),
              "unknown flags 0x100 in word 0x1102"),
          arguments(
              "QEMU's MEM_SIZE flag",
              header(layout).u64(0x04 | StreamBytes.ZERO).u32(0).toByteArray(),
              "unknown flags 0x4"),
          arguments(
              "ENCODED and PAGE together",
              header(layout).u64(0x80 | StreamBytes.PAGE).u32(0).toByteArray(),
              "flags 0x88 do not name exactly one of ZERO, PAGE, ENCODED, DIGEST, EOS"),
          arguments(
              "obsolete FULL flag with ZERO",
              header(layout).u64(0x01 | StreamBytes.ZERO).toByteArray(),
              "unknown flags 0x1"),
          arguments(
              "highest flag bit",
              header(layout).u64(0x800 | StreamBytes.PAGE).toByteArray(),
              "unknown flags 0x800"),
          arguments(
              "ZERO and PAGE together",
              header(layout).u64(StreamBytes.ZERO | StreamBytes.PAGE).u32(0).toByteArray(),
              "flags 0xa do not name exactly one of ZERO, PAGE, ENCODED, DIGEST, EOS"),
          arguments(
              "DIGEST and ZERO together",
              header(layout).u64(StreamBytes.DIGEST | StreamBytes.ZERO).u32(0).toByteArray(),
              "flags 0x42 do not name exactly one of ZERO, PAGE, ENCODED, DIGEST, EOS"),
          arguments(
              "PAGE and EOS together",
              header(layout).u64(StreamBytes.PAGE | StreamBytes.EOS).toByteArray(),
              "flags 0x18 do not name exactly one"),
          arguments(
              "no record kind",
              header(layout).u64(0).toByteArray(),
              "flags 0x0 do not name exactly one"),
          arguments(
              "CONTINUE alone",
              header(layout).u64(StreamBytes.CONTINUE).toByteArray(),
              "flags 0x20 do not name exactly one"),
          arguments(
              "EOS with CONTINUE",
              header(layout)
                  .u64(StreamBytes.EOS | StreamBytes.CONTINUE)
                  .u64(0)
                  .u64(0)
                  .toByteArray(),
              "end-of-stream word 0x30 is not 0x10"),
          arguments(
              "EOS with an offset",
              header(layout).u64(0x1000 | StreamBytes.EOS).u64(0).u64(0).toByteArray(),
              "end-of-stream word 0x1010 is not 0x10"),
          arguments(
              "block id cut short",
              header(layout).u64(StreamBytes.ZERO).u16(0).toByteArray(),
              "block id of 4 bytes runs past the end of its frame (2 bytes left)"),
          arguments(
              "ZERO without its fill byte",
              header(layout).u64(StreamBytes.ZERO).u32(0).toByteArray(),
              "ZERO fill byte of 1 bytes runs past the end of its frame (0 bytes left)"),
          arguments(
              "PAGE payload cut short",
              header(layout).u64(StreamBytes.PAGE).u32(0).bytes(new byte[100]).toByteArray(),
              "PAGE payload of 4096 bytes runs past the end of its frame (100 bytes left)"),
          arguments(
              "no end of stream",
              header(layout).zero(0, 0, PATTERN).toByteArray(),
              "stream truncated in frame header before record word: 8 bytes needed, 0 read"),
          arguments(
              "end-of-stream counts cut short",
              header(layout).u64(StreamBytes.EOS).u32(0).toByteArray(),
              "end-of-stream counts of 16 bytes runs past the end of its frame (4 bytes left)"),
          arguments(
              "end of stream counts too many records",
              header(layout).zero(0, 1, PATTERN).eos(2, 0).toByteArray(),
              "end of stream counts 2 page records, the channel held 1"),
          arguments(
              "end of stream counts too few records",
              header(layout).page(0, 1, PATTERN).zero(1, 0, PATTERN).eos(1, 0).toByteArray(),
              "end of stream counts 1 page records, the channel held 2"),
          arguments(
              "end of stream counts 2^64-1 records",
              header(layout).eos(-1, 0).toByteArray(),
              "end of stream counts 18446744073709551615 page records, the channel held 0"),
          arguments(
              "DIGEST records do not count as page records",
              header(layout).digest(0, 0, 0b1, CRC_OF_PATTERN).eos(1, 1).toByteArray(),
              "end of stream counts 1 page records, the channel held 0"),
          arguments(
              "DIGEST at a misaligned offset",
              header(layout).digest(0, 1, 0b1, CRC_OF_PATTERN).eos(0, 1).toByteArray(),
              "DIGEST at page 1, not a multiple of 64"),
          arguments(
              "DIGEST with an empty mask",
              header(layout).digest(0, 0, 0).eos(0, 0).toByteArray(),
              "DIGEST mask 0x0 at page 0 names no page or pages past the 4 of block pc.ram"),
          arguments(
              "DIGEST mask past the block end",
              header(layout).digest(0, 0, 0x1F, 1, 2, 3, 4, 5).eos(0, 5).toByteArray(),
              "DIGEST mask 0x1f at page 0 names no page or pages past the 4 of block pc.ram"),
          arguments(
              "DIGEST mask with only the top bit, after CONTINUE",
              header(layout)
                  .zero(1, 0, PATTERN)
                  .digestContinue(0, 1L << 63, 1)
                  .eos(1, 1)
                  .toByteArray(),
              "DIGEST mask 0x8000000000000000 at page 0 names no page or pages past the 2 of"
                  + " block vga.vram"),
          arguments(
              "DIGEST past the used length",
              header(layout).digest(0, 64, 0b1, 1).eos(0, 1).toByteArray(),
              "offset 0x40000 not below used length 0x4000 of block pc.ram"),
          arguments(
              "DIGEST mask cut short",
              header(layout).u64(StreamBytes.DIGEST).u32(0).u32(0).toByteArray(),
              "DIGEST mask of 8 bytes runs past the end of its frame (4 bytes left)"),
          arguments(
              "DIGEST checksums cut short",
              header(layout).digest(0, 0, 0b11, CRC_OF_PATTERN).toByteArray(),
              "DIGEST checksums of 8 bytes runs past the end of its frame (4 bytes left)"),
          arguments(
              "end of stream counts more digested pages than the channel held",
              header(layout).digest(0, 0, 0b1, CRC_OF_PATTERN).eos(0, 2).toByteArray(),
              "end of stream counts 2 digested pages, the channel held 1"),
          arguments(
              "end of stream counts no digested pages after a DIGEST",
              header(layout)
                  .digest(0, 0, 0b11, CRC_OF_PATTERN, CRC_OF_PATTERN)
                  .eos(0, 0)
                  .toByteArray(),
              "end of stream counts 0 digested pages, the channel held 2"));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource({"malformedPreludesAndFrames", "malformedHeaders", "malformedRecords"})
  void aMalformedStreamIsRejectedWithAClearMessageAndTouchesNothing(
      String name, byte[] stream, String problem) {
    Destination destination = new Destination(memory);

    assertThatThrownBy(() -> destination.receive(new ByteArrayInputStream(stream)))
        .isInstanceOf(MigrationStreamException.class)
        .hasMessageContaining(problem)
        .hasMessageMatching("(header|record \\d+) at byte \\d+: .*");

    assertRejected(destination, problem);
  }

  /**
   * Two-channel cases: with this layout and two channels, every page of pc.ram (block 0, stripe 0)
   * travels on channel 0 and every page of vga.vram (block 1, stripe 0) on channel 1.
   */
  static Stream<Arguments> malformedChannelPairs() {
    try (GuestMemory layout = layout()) {
      byte[] channel0 = header(layout, 7, 0, 2).zero(0, 0, PATTERN).eos(1, 0).toByteArray();
      byte[] channel1 = header(layout, 7, 1, 2).zero(1, 1, PATTERN).eos(1, 0).toByteArray();
      return Stream.of(
          arguments(
              "a page record on the wrong channel",
              header(layout, 7, 0, 2).zero(1, 0, PATTERN).eos(1, 0).toByteArray(),
              channel1,
              "page 0 of block vga.vram belongs to channel 1, not to this channel 0"),
          arguments(
              "a DIGEST record on the wrong channel",
              channel0,
              header(layout, 7, 1, 2)
                  .digest(
                      0, 0, 0b1111, CRC_OF_PATTERN, CRC_OF_PATTERN, CRC_OF_PATTERN, CRC_OF_PATTERN)
                  .eos(0, 4)
                  .toByteArray(),
              "page 0 of block pc.ram belongs to channel 0, not to this channel 1"),
          arguments(
              "channels of two migrations",
              channel0,
              header(layout, 8, 1, 2).zero(1, 1, PATTERN).eos(1, 0).toByteArray(),
              "belongs to migration 0x"),
          arguments("the same channel twice", channel0, channel0, "channel 0 arrived twice"),
          arguments(
              "a channel of a three-channel migration",
              channel0,
              header(layout, 7, 1, 3).eos(0, 0).toByteArray(),
              "stream has 3 channels, destination receives 2"),
          arguments(
              "a truncated channel",
              channel0,
              Arrays.copyOf(channel1, channel1.length - 1),
              "stream truncated in frame of 107 bytes: 107 bytes needed, 106 read"));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedChannelPairs")
  void aMalformedChannelFailsTheWholeReceiveAndTouchesNothing(
      String name, byte[] first, byte[] second, String problem) {
    for (boolean reversed : new boolean[] {false, true}) {
      Destination destination = new Destination(memory);
      List<InputStream> channels =
          Stream.of(reversed ? second : first, reversed ? first : second)
              .map(b -> (InputStream) new ByteArrayInputStream(b))
              .toList();

      assertThatThrownBy(() -> destination.receive(channels))
          .as("reversed: %s", reversed)
          .isInstanceOf(MigrationStreamException.class)
          .hasMessageContaining(problem);

      assertRejected(destination, problem);
    }
  }

  private void assertRejected(Destination destination, String problem) {
    assertThat(destination.report())
        .hasValueSatisfying(
            report -> {
              assertThat(report.completed()).isFalse();
              assertThat(report.verified()).isFalse();
              assertThat(report.failure()).contains(problem);
            });
    assertThat(TestMemories.allBytesAre(memory, PATTERN)).as("memory untouched").isTrue();
  }

  /**
   * The format says a unit never spans two frames, and the package documentation lists "a unit runs
   * past its frame" among the errors. These records are split between two correctly checksummed
   * frames exactly between two of their fields.
   */
  static Stream<Arguments> recordsSplitBetweenFramesAtAFieldBoundary() {
    try (GuestMemory layout = layout()) {
      byte[] zero = header(layout).zero(0, 0, PATTERN).eos(1, 0).unframed();
      byte[] page = header(layout).page(0, 0, PATTERN).eos(1, 0).unframed();
      byte[] digest = header(layout).digest(0, 0, 0b1, CRC_OF_PATTERN).eos(0, 1).unframed();
      byte[] eos = header(layout).eos(0, 0).unframed();
      return Stream.of(
          arguments("ZERO: word | block id", framed(zero, HEADER + 8)),
          arguments("ZERO: block id | fill byte", framed(zero, HEADER + 12)),
          arguments("PAGE: block id | page", framed(page, HEADER + 12)),
          arguments("DIGEST: block id | mask", framed(digest, HEADER + 12)),
          arguments("DIGEST: mask | checksums", framed(digest, HEADER + 20)),
          arguments("EOS: word | counts", framed(eos, HEADER + 8)));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("recordsSplitBetweenFramesAtAFieldBoundary")
  void aRecordSplitBetweenTwoFramesIsRejectedEvenAtAFieldBoundary(String name, byte[] stream) {
    Destination destination = new Destination(memory);

    assertThatThrownBy(() -> destination.receive(new ByteArrayInputStream(stream)))
        .isInstanceOf(MigrationStreamException.class)
        .hasMessageContaining("runs past the end of its");

    assertRejected(destination, "runs past the end of its");
  }

  @Test
  void aStreamSplitIntoFramesAtUnitBoundariesLoads() throws IOException {
    byte[] stream =
        header(memory)
            .frameBreak()
            .zero(0, 0, PATTERN)
            .frameBreak()
            .page(1, 1, 0x11)
            .frameBreak()
            .digestContinue(0, 0b11, CRC_OF_PATTERN, StreamBytes.pageChecksum(0x11))
            .frameBreak()
            .eos(2, 2)
            .toByteArray();
    assertThat(StreamBytes.decode(stream).frames()).hasSize(5);

    DestinationReport report = new Destination(memory).receive(new ByteArrayInputStream(stream));

    assertThat(report).isEqualTo(new DestinationReport(true, 1, 1, 0, stream.length, 2, 0, null));
    assertThat(report.verified()).isTrue();
    assertThat(memory.readLong(0x800000 + 4096)).isEqualTo(0x1111111111111111L);
  }

  @Test
  void theExceptionNamesTheRecordIndexAndItsByteOffset() {
    byte[] stream =
        header(memory)
            .zero(0, 0, PATTERN)
            .zeroContinue(1, PATTERN)
            .zero(1, 9, PATTERN)
            .eos(3, 0)
            .toByteArray();

    assertThatThrownBy(() -> new Destination(memory).receive(new ByteArrayInputStream(stream)))
        .isInstanceOfSatisfying(
            MigrationStreamException.class,
            e -> {
              assertThat(e.recordIndex()).isEqualTo(2);
              assertThat(e.byteOffset()).isEqualTo(12 + 8 + HEADER + 13 + 9);
              assertThat(e.getMessage()).startsWith("record 2 at byte 112: offset 0x9000");
            });
  }

  @Test
  void recordOffsetsCountThePreludeAndTheHeadersOfEveryFrameBefore() {
    byte[] stream =
        header(memory)
            .frameBreak()
            .zero(0, 0, PATTERN)
            .frameBreak()
            .zero(1, 9, PATTERN)
            .eos(2, 0)
            .toByteArray();

    assertThatThrownBy(() -> new Destination(memory).receive(new ByteArrayInputStream(stream)))
        .isInstanceOfSatisfying(
            MigrationStreamException.class,
            e -> {
              assertThat(e.recordIndex()).isEqualTo(1);
              assertThat(e.byteOffset()).isEqualTo(12 + 8 + HEADER + 8 + 13 + 8);
            });
  }

  static Stream<Arguments> headerFieldOffsets() {
    return Stream.of(
        arguments("page size", headerFields(512, 0, 0, 1, 2).toByteArray(), 20L),
        arguments("channel", headerFields(4096, 0, 0, 0, 2).toByteArray(), 32L),
        arguments("block count", headerWithCount(0).toByteArray(), 36L),
        arguments("first block's name length", headerWithCount(2).u16(0).toByteArray(), 40L),
        arguments(
            "first block's name",
            headerWithCount(2).blockEntry("pc.rom", 0x100000, 4 * 4096).toByteArray(),
            42L),
        arguments(
            "first block's guest address",
            headerWithCount(2).blockEntry("pc.ram", 0, 4 * 4096).toByteArray(),
            48L),
        arguments(
            "first block's used length",
            headerWithCount(2).blockEntry("pc.ram", 0x100000, 4096).toByteArray(),
            56L),
        arguments(
            "second block's name length",
            headerWithCount(2).blockEntry("pc.ram", 0x100000, 4 * 4096).u16(0).toByteArray(),
            64L),
        arguments(
            "second block's name length, in a frame of its own",
            headerWithCount(2)
                .blockEntry("pc.ram", 0x100000, 4 * 4096)
                .frameBreak()
                .u16(0)
                .toByteArray(),
            72L));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("headerFieldOffsets")
  void headerErrorsNameTheStreamOffsetOfTheBadField(String field, byte[] stream, long offset) {
    assertThatThrownBy(() -> new Destination(memory).receive(new ByteArrayInputStream(stream)))
        .isInstanceOfSatisfying(
            MigrationStreamException.class,
            e -> {
              assertThat(e.recordIndex()).isEqualTo(-1);
              assertThat(e.byteOffset()).isEqualTo(offset);
              assertThat(e.getMessage()).startsWith("header at byte " + offset + ": ");
            });
  }

  @Test
  void frameErrorsNameTheOffsetOfTheFrameHeaderOrWhereTheInputEnded() throws IOException {
    byte[] payload = header(memory).zero(0, 0, PATTERN).eos(1, 0).unframed();
    byte[] second = frame(1, payload, HEADER, payload.length);
    second[5] ^= 0x40;
    byte[] badChecksum = concat(prelude(), frame(0, payload, 0, HEADER), second);
    byte[] badLength =
        concat(prelude(), frame(0, payload, 0, HEADER), frame(0, 0, payload, HEADER, HEADER));
    byte[] cut = Arrays.copyOf(framed(payload, HEADER), 12 + 8 + HEADER + 8 + 5);

    assertThat(offsetOfError(badChecksum)).isEqualTo(12 + 8 + HEADER);
    assertThat(offsetOfError(badLength)).isEqualTo(12 + 8 + HEADER);
    assertThat(offsetOfError(cut)).isEqualTo(cut.length);
  }

  private long offsetOfError(byte[] stream) throws IOException {
    try (GuestMemory fresh = layout()) {
      new Destination(fresh).receive(new ByteArrayInputStream(stream));
    } catch (MigrationStreamException e) {
      return e.byteOffset();
    }
    throw new AssertionError("stream was accepted");
  }

  /**
   * The channel index, channel count and migration id are at stream bytes 32, 34 and 24 (prelude
   * 12, frame header 8, page size 4); a mismatch between channels names that field.
   */
  @Test
  void channelMismatchesNameTheStreamOffsetOfTheHeaderField() {
    byte[] channel0 = header(memory, 7, 0, 2).eos(0, 0).toByteArray();
    byte[] otherMigration = header(memory, 8, 1, 2).eos(0, 0).toByteArray();
    byte[] threeChannels = header(memory, 7, 1, 3).eos(0, 0).toByteArray();

    SoftAssertions.assertSoftly(
        softly -> {
          softly
              .assertThat(multiChannelError(channel0, channel0).byteOffset())
              .as("channel index")
              .isEqualTo(32);
          softly
              .assertThat(multiChannelError(channel0, otherMigration).byteOffset())
              .as("migration id")
              .isEqualTo(24);
          softly
              .assertThat(multiChannelError(channel0, threeChannels).byteOffset())
              .as("channel count")
              .isEqualTo(34);
        });
  }

  private static MigrationStreamException multiChannelError(byte[] first, byte[] second) {
    try (GuestMemory fresh = layout()) {
      new Destination(fresh)
          .receive(List.of(new ByteArrayInputStream(first), new ByteArrayInputStream(second)));
    } catch (MigrationStreamException e) {
      return e;
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("channels were accepted");
  }

  @Test
  void everyProperPrefixOfAValidStreamIsRejectedAsTruncated() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long payloadStart;
    try (GuestMemory source = layout()) {
      source.fill(0x100000 + 4096, 4096, PATTERN);
      MigrationStreamWriter writer = new MigrationStreamWriter(out, 8192);
      writer.writeHeader(source.blocks());
      writer.writeZeroPage(source.blocks().get(1), 1);
      payloadStart = writer.bytesWritten() + 12;
      writer.writePage(source.blocks().get(0), 1);
      writer.writeZeroPage(source.blocks().get(0), 2);
      writer.writeDigest(source.blocks().get(0), null);
      writer.writeEndOfStream();
    }
    byte[] stream = out.toByteArray();
    try (GuestMemory fresh = layout()) {
      for (int length = 0; length < stream.length; length++) {
        boolean insidePayload = length > payloadStart + 1 && length < payloadStart + 4095;
        if (insidePayload && length % 256 != 0) {
          continue;
        }
        byte[] prefix = Arrays.copyOf(stream, length);
        Destination destination = new Destination(fresh);
        assertThatThrownBy(() -> destination.receive(new ByteArrayInputStream(prefix)))
            .as("prefix of %d bytes", length)
            .isInstanceOf(MigrationStreamException.class)
            .hasMessageContaining("stream truncated in ");
        assertThat(destination.report().orElseThrow().completed()).isFalse();
      }
      DestinationReport report = new Destination(fresh).receive(new ByteArrayInputStream(stream));
      assertThat(report.completed()).isTrue();
      assertThat(report.verified()).isTrue();
      assertThat(fresh.readLong(0x100000 + 4096)).isEqualTo(0x5A5A5A5A5A5A5A5AL);
    }
  }
}
