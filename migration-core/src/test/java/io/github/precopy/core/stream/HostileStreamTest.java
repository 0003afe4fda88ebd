package io.github.precopy.core.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.github.precopy.core.GuestMemory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 * write 0x5A, so the memory must still be all 0x5A afterwards: nothing outside the stream's valid
 * records was touched.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
final class HostileStreamTest {

  private static final byte PATTERN = 0x5A;

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

  static Stream<Arguments> hostileStreams() {
    try (GuestMemory layout = layout()) {
      byte[] header = StreamBytes.header(layout).toByteArray();
      return Stream.of(
          arguments("empty input", new byte[0], "truncated in header"),
          arguments(
              "bad magic",
              new StreamBytes().u64(0x5145564D00000003L).u32(1).u32(4096).u32(2).toByteArray(),
              "bad magic"),
          arguments(
              "version 2",
              new StreamBytes().u64(StreamBytes.MAGIC).u32(2).u32(4096).u32(2).toByteArray(),
              "unsupported version 2"),
          arguments(
              "page size 8192",
              new StreamBytes().u64(StreamBytes.MAGIC).u32(1).u32(8192).u32(2).toByteArray(),
              "page size 8192"),
          arguments("no blocks", headerWithCount(0).toByteArray(), "block count 0 not in"),
          arguments("absurd block count", headerWithCount(5000).toByteArray(), "block count 5000"),
          arguments(
              "block count 2^32-1", headerWithCount(-1).toByteArray(), "block count 4294967295"),
          arguments(
              "more blocks than the destination",
              headerWithCount(3).toByteArray(),
              "stream has 3 RAM blocks, destination has 2"),
          arguments(
              "empty block name",
              headerWithCount(2).u16(0).toByteArray(),
              "block 0: name length 0"),
          arguments(
              "block name of 300 bytes",
              headerWithCount(2).u16(300).bytes(new byte[300]).toByteArray(),
              "name length 300"),
          arguments(
              "other block name",
              headerWithCount(2).blockEntry("pc.rom", 0x100000, 4 * 4096).toByteArray(),
              "block 0 is named \"pc.rom\", destination's is \"pc.ram\""),
          arguments(
              "other guest address",
              headerWithCount(2).blockEntry("pc.ram", 0x200000, 4 * 4096).toByteArray(),
              "guest address 0x200000"),
          arguments(
              "other used length",
              headerWithCount(2).blockEntry("pc.ram", 0x100000, 8 * 4096).toByteArray(),
              "used length 32768"),
          arguments(
              "block table cut short",
              headerWithCount(2).blockEntry("pc.ram", 0x100000, 4 * 4096).toByteArray(),
              "truncated in block table"),
          arguments(
              "block id past the table",
              StreamBytes.header(layout).zero(2, 0, PATTERN).eos(1).toByteArray(),
              "block id 2 not in the block table of 2"),
          arguments(
              "block id 2^32-1",
              StreamBytes.header(layout).page(-1, 0, PATTERN).eos(1).toByteArray(),
              "block id 4294967295"),
          arguments(
              "CONTINUE before any block",
              StreamBytes.header(layout).zeroContinue(0, PATTERN).eos(1).toByteArray(),
              "CONTINUE with no previous block"),
          arguments(
              "offset at the used length",
              StreamBytes.header(layout).zero(1, 2, PATTERN).eos(1).toByteArray(),
              "offset 0x2000 not below used length 0x2000 of block vga.vram"),
          arguments(
              "offset past the used length after CONTINUE",
              StreamBytes.header(layout)
                  .zero(1, 1, PATTERN)
                  .zeroContinue(5, PATTERN)
                  .eos(2)
                  .toByteArray(),
              "offset 0x5000"),
          arguments(
              "offset with the top bit set",
              StreamBytes.header(layout)
                  .u64(0xFFFFFFFFFFFFF000L | StreamBytes.PAGE)
                  .u32(0)
                  .toByteArray(),
              "offset 0xfffffffffffff000 not below"),
          arguments(
              "offset not page-aligned",
              StreamBytes.header(layout)
                  .u64(0x1000 + 0x100 | StreamBytes.ZERO)
                  .u32(0)
                  .toByteArray(),
              "unknown flags 0x100"),
          arguments(
              "XBZRLE flag",
              StreamBytes.header(layout).u64(0x40).u32(0).toByteArray(),
              "unknown flags 0x40"),
          arguments(
              "obsolete FULL flag with ZERO",
              StreamBytes.header(layout).u64(0x01 | StreamBytes.ZERO).toByteArray(),
              "unknown flags 0x1"),
          arguments(
              "highest flag bit",
              StreamBytes.header(layout).u64(0x800 | StreamBytes.PAGE).toByteArray(),
              "unknown flags 0x800"),
          arguments(
              "ZERO and PAGE together",
              StreamBytes.header(layout)
                  .u64(StreamBytes.ZERO | StreamBytes.PAGE)
                  .u32(0)
                  .toByteArray(),
              "flags 0xa do not name exactly one of ZERO, PAGE, EOS"),
          arguments(
              "PAGE and EOS together",
              StreamBytes.header(layout).u64(StreamBytes.PAGE | StreamBytes.EOS).toByteArray(),
              "flags 0x18 do not name exactly one"),
          arguments(
              "no record kind",
              StreamBytes.header(layout).u64(0).toByteArray(),
              "flags 0x0 do not name exactly one"),
          arguments(
              "CONTINUE alone",
              StreamBytes.header(layout).u64(StreamBytes.CONTINUE).toByteArray(),
              "flags 0x20 do not name exactly one"),
          arguments(
              "EOS with CONTINUE",
              StreamBytes.header(layout)
                  .u64(StreamBytes.EOS | StreamBytes.CONTINUE)
                  .u64(0)
                  .toByteArray(),
              "end-of-stream word 0x30 is not 0x10"),
          arguments(
              "EOS with an offset",
              StreamBytes.header(layout).u64(0x1000 | StreamBytes.EOS).u64(0).toByteArray(),
              "end-of-stream word 0x1010"),
          arguments(
              "record word cut short",
              StreamBytes.header(layout).u32(0).toByteArray(),
              "truncated in record word"),
          arguments(
              "block id cut short",
              StreamBytes.header(layout).u64(StreamBytes.ZERO).u16(0).toByteArray(),
              "truncated in block id"),
          arguments(
              "ZERO without its fill byte",
              StreamBytes.header(layout).u64(StreamBytes.ZERO).u32(0).toByteArray(),
              "truncated in ZERO fill byte"),
          arguments(
              "PAGE payload cut short",
              StreamBytes.header(layout)
                  .u64(StreamBytes.PAGE)
                  .u32(0)
                  .bytes(new byte[100])
                  .toByteArray(),
              "truncated in PAGE payload: 4096 bytes needed, 100 left"),
          arguments(
              "no end of stream",
              StreamBytes.header(layout).zero(0, 0, PATTERN).toByteArray(),
              "truncated in record word: 8 bytes needed, 0 left"),
          arguments(
              "end-of-stream count cut short",
              StreamBytes.header(layout).u64(StreamBytes.EOS).u32(0).toByteArray(),
              "truncated in end-of-stream page count"),
          arguments(
              "end of stream counts too many records",
              StreamBytes.header(layout).zero(0, 1, PATTERN).eos(2).toByteArray(),
              "end of stream counts 2 page records, stream held 1"),
          arguments(
              "end of stream counts too few records",
              StreamBytes.header(layout)
                  .page(0, 1, PATTERN)
                  .zero(1, 0, PATTERN)
                  .eos(1)
                  .toByteArray(),
              "end of stream counts 1 page records, stream held 2"),
          arguments(
              "a byte after the end of stream",
              StreamBytes.header(layout).eos(0).u8(0).toByteArray(),
              "bytes follow the end-of-stream record"),
          arguments(
              "a record after the end of stream",
              StreamBytes.header(layout).eos(0).zero(0, 0, PATTERN).toByteArray(),
              "bytes follow the end-of-stream record"),
          arguments("header only", header, "truncated in record word"));
    }
  }

  private static StreamBytes headerWithCount(int count) {
    return new StreamBytes().u64(StreamBytes.MAGIC).u32(1).u32(4096).u32(count);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileStreams")
  void aMalformedStreamIsRejectedWithAClearMessageAndTouchesNothing(
      String name, byte[] stream, String problem) {
    Destination destination = new Destination(memory);

    assertThatThrownBy(() -> destination.receive(new ByteArrayInputStream(stream)))
        .isInstanceOf(MigrationStreamException.class)
        .hasMessageContaining(problem)
        .hasMessageMatching("(header|record \\d+) at byte \\d+: .*");

    assertThat(destination.report())
        .hasValueSatisfying(
            report -> {
              assertThat(report.completed()).isFalse();
              assertThat(report.failure()).contains(problem);
            });
    assertThat(TestGuests.allBytesAre(memory, PATTERN)).as("memory untouched").isTrue();
  }

  @Test
  void theExceptionNamesTheRecordIndexAndItsByteOffset() throws IOException {
    byte[] header = StreamBytes.header(memory).toByteArray();
    byte[] stream =
        StreamBytes.header(memory)
            .zero(0, 0, PATTERN)
            .zeroContinue(1, PATTERN)
            .zero(1, 9, PATTERN)
            .eos(3)
            .toByteArray();

    assertThatThrownBy(() -> new Destination(memory).receive(new ByteArrayInputStream(stream)))
        .isInstanceOfSatisfying(
            MigrationStreamException.class,
            e -> {
              assertThat(e.recordIndex()).isEqualTo(2);
              assertThat(e.byteOffset()).isEqualTo(header.length + 13 + 9);
              assertThat(e.getMessage()).startsWith("record 2 at byte " + (header.length + 22));
            });
  }

  @Test
  void headerErrorsNameTheOffsetOfTheBadField() {
    byte[] stream =
        headerWithCount(2).blockEntry("pc.ram", 0x100000, 4 * 4096).u16(0).toByteArray();

    assertThatThrownBy(() -> new Destination(memory).receive(new ByteArrayInputStream(stream)))
        .isInstanceOfSatisfying(
            MigrationStreamException.class,
            e -> {
              assertThat(e.recordIndex()).isEqualTo(-1);
              assertThat(e.byteOffset()).isEqualTo(20 + 18 + 6);
              assertThat(e.getMessage()).contains("block 1: name length 0");
            });
  }

  @Test
  void everyProperPrefixOfAValidStreamIsRejectedAsTruncated() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long payloadStart;
    try (GuestMemory source = layout()) {
      source.fill(0x100000 + 4096, 4096, PATTERN);
      MigrationStreamWriter writer = new MigrationStreamWriter(out);
      writer.writeHeader(source.blocks());
      writer.writeZeroPage(source.blocks().get(1), 1);
      payloadStart = writer.bytesWritten() + 12;
      writer.writePage(source.blocks().get(0), 1);
      writer.writeZeroPage(source.blocks().get(0), 2);
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
            .hasMessageContaining("truncated");
      }
      assertThat(new Destination(fresh).receive(new ByteArrayInputStream(stream)).completed())
          .isTrue();
      assertThat(fresh.readLong(0x100000 + 4096)).isEqualTo(0x5A5A5A5A5A5A5A5AL);
    }
  }
}
