package io.github.precopy.core.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.testing.StreamBytes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
final class MigrationStreamWriterTest {

  private GuestMemory memory;
  private RamBlock ram;
  private RamBlock vram;
  private ByteArrayOutputStream out;
  private MigrationStreamWriter writer;

  @BeforeEach
  void setUp() {
    memory =
        GuestMemory.builder()
            .anonymousBlock("pc.ram", 0x100000, 4 * 4096)
            .anonymousBlock("vga.vram", 0x800000, 2 * 4096)
            .build();
    ram = memory.blocks().get(0);
    vram = memory.blocks().get(1);
    out = new ByteArrayOutputStream();
    writer = new MigrationStreamWriter(out);
  }

  @AfterEach
  void tearDown() {
    writer.close();
    memory.close();
  }

  @Test
  void writesTheDocumentedBytesForTheHeaderAndEveryRecordKind() throws IOException {
    memory.fill(0x100000 + 4096, 4096, (byte) 0x7E);

    writer.writeHeader(memory.blocks());
    writer.writeZeroPage(ram, 0);
    writer.writePage(ram, 1);
    writer.writePage(vram, 1);
    writer.writeZeroPage(ram, 3);
    writer.writeDigest(ram, null);
    writer.writeEndOfStream();

    byte[] written = out.toByteArray();
    long migrationId = ByteBuffer.wrap(written).getLong(12 + 8 + 4);
    int zero = StreamBytes.pageChecksum(0);
    byte[] expected =
        StreamBytes.header(memory, migrationId, 0, 1)
            .zero(0, 0, 0)
            .u64(4096 | StreamBytes.PAGE | StreamBytes.CONTINUE)
            .bytes(StreamBytes.filledPage(0x7E))
            .page(1, 1, 0)
            .zero(0, 3, 0)
            .digestContinue(0, 0b1111, zero, StreamBytes.pageChecksum(0x7E), zero, zero)
            .eos(4, 4)
            .toByteArray();
    assertThat(written).isEqualTo(expected);
    assertThat(writer.bytesWritten()).isEqualTo(expected.length);
    assertThat(writer.zeroPagesWritten()).isEqualTo(2);
    assertThat(writer.normalPagesWritten()).isEqualTo(2);
    assertThat(writer.digestPagesWritten()).isEqualTo(4);
  }

  @Test
  void recordSizesFollowTheDocumentedLayoutAndAddTheBlockIdOnlyOnSwitch() throws IOException {
    assertThat(sizeOf(() -> writer.writeHeader(memory.blocks())))
        .as("first frame header and channel header with the block table")
        .isEqualTo(8 + 20 + (18 + 6) + (18 + 8));
    assertThat(writer.bytesWritten()).as("with the prelude").isEqualTo(12 + 8 + 70);

    assertThat(sizeOf(() -> writer.writeZeroPage(ram, 0))).isEqualTo(13);
    assertThat(sizeOf(() -> writer.writeZeroPage(ram, 1))).isEqualTo(9);
    assertThat(sizeOf(() -> writer.writePage(ram, 2))).isEqualTo(8 + 4096);
    assertThat(sizeOf(() -> writer.writePage(vram, 0))).isEqualTo(12 + 4096);
    assertThat(sizeOf(() -> writer.writeZeroPage(ram, 0))).isEqualTo(13);
    assertThat(sizeOf(() -> writer.writeDigest(ram, null))).isEqualTo(16 + 4 * 4);
    assertThat(sizeOf(() -> writer.writeDigest(vram, null))).isEqualTo(20 + 4 * 2);
    assertThat(sizeOf(writer::writeEndOfStream)).isEqualTo(24);
    assertThat(writer.bytesWritten()).isEqualTo(out.size());
  }

  @Test
  void aRecordThatOpensANewFrameAlsoCountsTheEightByteFrameHeader() throws IOException {
    MigrationStreamWriter small = new MigrationStreamWriter(out, 8192);
    small.writeHeader(memory.blocks());
    long afterHeader = small.bytesWritten();
    small.writePage(ram, 0);
    long afterFirst = small.bytesWritten();

    small.writePage(ram, 1);

    assertThat(afterFirst - afterHeader).isEqualTo(12 + 4096);
    assertThat(small.bytesWritten() - afterFirst)
        .as("70 + 4108 + 4104 > 8192")
        .isEqualTo(8 + (8 + 4096));
    assertThat(out.size()).as("the first frame went out").isEqualTo(12 + 8 + 70 + 4108);
  }

  @Test
  void holdsRecordsInItsBufferUntilFlushed() throws IOException {
    writer.writeHeader(memory.blocks());
    writer.writePage(ram, 0);
    assertThat(out.size()).as("not even the prelude").isZero();

    writer.flush();

    assertThat(out.size()).isEqualTo(writer.bytesWritten());
    assertThat(StreamBytes.prelude()).isEqualTo(java.util.Arrays.copyOf(out.toByteArray(), 12));
  }

  @Test
  void aSmallBufferCarriesTheSameUnitsInMoreChecksummedFramesNoneSpanningTwo() throws IOException {
    memory.fill(0x100000, 4 * 4096, (byte) 0x3C);
    ByteArrayOutputStream small = new ByteArrayOutputStream();
    MigrationStreamWriter smallWriter = new MigrationStreamWriter(small, 8192);
    for (MigrationStreamWriter w : List.of(writer, smallWriter)) {
      w.writeHeader(memory.blocks());
      for (long page = 0; page < ram.pageCount(); page++) {
        w.writePage(ram, page);
        w.writeZeroPage(vram, page % 2);
      }
      w.writeDigest(ram, null);
      w.writeDigest(vram, null);
      w.writeEndOfStream();
    }

    StreamBytes.Decoded large = StreamBytes.decode(out.toByteArray());
    StreamBytes.Decoded many = StreamBytes.decode(small.toByteArray());
    assertThat(large.frames()).hasSize(1);
    assertThat(many.frames()).hasSizeGreaterThanOrEqualTo(4);
    assertThat(many.frames()).allSatisfy(f -> assertThat(f.length()).isBetween(1, 8192));
    assertThat(withoutMigrationId(StreamBytes.payloadOf(small.toByteArray())))
        .isEqualTo(withoutMigrationId(StreamBytes.payloadOf(out.toByteArray())));
    assertThat(smallWriter.bytesWritten()).isEqualTo(small.size());
    assertThat(many.records(StreamBytes.PAGE)).hasSize(4);
    assertThat(many.records(StreamBytes.ZERO)).hasSize(4);
    assertThat(many.records(StreamBytes.DIGEST)).hasSize(2);
  }

  @Test
  void eachWriterDrawsAMigrationIdAndEveryChannelCarriesItWithItsIndex() throws IOException {
    List<ByteArrayOutputStream> sinks = new ArrayList<>();
    List<WritableByteChannel> channels = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      sinks.add(new ByteArrayOutputStream());
      channels.add(Channels.newChannel(sinks.get(i)));
    }
    try (MigrationStreamWriter multi = new MigrationStreamWriter(channels, Duration.ofSeconds(5))) {
      multi.writeHeader(memory.blocks());
      multi.writeEndOfStream();
    }
    writer.writeHeader(memory.blocks());
    writer.writeEndOfStream();

    long id = StreamBytes.decode(sinks.get(0).toByteArray()).migrationId();
    for (int i = 0; i < 3; i++) {
      StreamBytes.Decoded channel = StreamBytes.decode(sinks.get(i).toByteArray());
      assertThat(channel.migrationId()).isEqualTo(id);
      assertThat(channel.channel()).isEqualTo(i);
      assertThat(channel.channels()).isEqualTo(3);
      assertThat(channel.blockCount()).isEqualTo(2);
    }
    assertThat(StreamBytes.decode(out.toByteArray()).migrationId()).isNotEqualTo(id);
  }

  /**
   * The channel writer hands each header over in a frame of its own, so that a destination can
   * check it while it accepts the connection; the single-stream writer keeps it with the records.
   */
  @Test
  void theChannelWriterSendsEachHeaderInAFrameOfItsOwn() throws IOException {
    List<ByteArrayOutputStream> sinks = new ArrayList<>();
    List<WritableByteChannel> channels = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      sinks.add(new ByteArrayOutputStream());
      channels.add(Channels.newChannel(sinks.get(i)));
    }
    try (MigrationStreamWriter multi = new MigrationStreamWriter(channels, Duration.ofSeconds(5))) {
      multi.writeHeader(memory.blocks());
      multi.writeZeroPage(ram, 0);
      multi.writeZeroPage(vram, 0);
      multi.writeEndOfStream();
    }
    writer.writeHeader(memory.blocks());
    writer.writeZeroPage(ram, 0);
    writer.writeEndOfStream();

    int headerBytes = StreamBytes.HEADER_BYTES + (18 + 6) + (18 + 8);
    for (ByteArrayOutputStream sink : sinks) {
      List<StreamBytes.Frame> frames = StreamBytes.decode(sink.toByteArray()).frames();
      assertThat(frames).hasSize(2);
      assertThat(frames.get(0).length()).isEqualTo(headerBytes);
    }
    assertThat(StreamBytes.decode(out.toByteArray()).frames()).hasSize(1);
  }

  @Test
  void writeDigestWithAnInUseBitmapDigestsOnlyThosePages() throws IOException {
    PageBitmap inUse = new PageBitmap(4);
    inUse.set(1);
    inUse.set(3);
    writer.writeHeader(memory.blocks());

    writer.writeDigest(ram, inUse);
    writer.writeEndOfStream();

    StreamBytes.Decoded decoded = StreamBytes.decode(out.toByteArray());
    assertThat(decoded.records(StreamBytes.DIGEST))
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.mask()).isEqualTo(0b1010);
              assertThat(d.page()).isZero();
              assertThat(d.block()).isZero();
              assertThat(d.payloadLength()).isEqualTo(8 + 2 * 4);
            });
    assertThat(writer.digestPagesWritten()).isEqualTo(2);
  }

  @Test
  void writeDigestOfAnEmptyInUseBitmapWritesNoRecord() throws IOException {
    writer.writeHeader(memory.blocks());
    long before = writer.bytesWritten();

    writer.writeDigest(ram, new PageBitmap(4));

    assertThat(writer.bytesWritten()).isEqualTo(before);
    assertThat(writer.digestPagesWritten()).isZero();
  }

  @Test
  void refusesRecordsBeforeTheHeaderAndAfterTheEndOfStream() throws IOException {
    assertThatThrownBy(() -> writer.writePage(ram, 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("header");
    assertThatThrownBy(() -> writer.writeDigest(ram, null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("header");
    assertThatThrownBy(writer::writeEndOfStream).isInstanceOf(IllegalStateException.class);

    writer.writeHeader(memory.blocks());
    assertThatThrownBy(() -> writer.writeHeader(memory.blocks()))
        .isInstanceOf(IllegalStateException.class);
    writer.writeEndOfStream();

    assertThatThrownBy(() -> writer.writeZeroPage(ram, 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("end of stream");
    assertThatThrownBy(() -> writer.writeDigest(ram, null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("end of stream");
    assertThatThrownBy(writer::writeEndOfStream).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void refusesABlockMissingFromTheHeaderOrAPageOutsideTheBlockWithoutWritingAnything()
      throws IOException {
    writer.writeHeader(List.of(ram));
    long before = writer.bytesWritten();

    assertThatThrownBy(() -> writer.writePage(vram, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("vga.vram");
    assertThatThrownBy(() -> writer.writeDigest(vram, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("vga.vram");
    assertThatThrownBy(() -> writer.writeDigest(ram, new PageBitmap(3)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("in-use bitmap of 3 bits");
    assertThatThrownBy(() -> writer.writeZeroPage(ram, 4))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> writer.writePage(ram, -1))
        .isInstanceOf(IndexOutOfBoundsException.class);

    assertThat(writer.bytesWritten()).isEqualTo(before);
    assertThat(writer.zeroPagesWritten() + writer.normalPagesWritten()).isZero();
    assertThat(writer.digestPagesWritten()).isZero();
  }

  @Test
  void refusesAHeaderWithoutBlocksOrWithABlockTwice() {
    assertThatThrownBy(() -> writer.writeHeader(List.of()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> writer.writeHeader(List.of(ram, ram)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("twice");
  }

  @Test
  void refusesABufferSmallerThanTwoPagesOrLargerThanTheLargestFrame() {
    assertThatThrownBy(() -> new MigrationStreamWriter(out, 8191))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new MigrationStreamWriter(out, (1 << 20) + 1))
        .isInstanceOf(IllegalArgumentException.class);
    new MigrationStreamWriter(out, 1 << 20).close();
  }

  @Test
  void refusesNoChannelsOrMoreThanSixtyFour() {
    Duration timeout = Duration.ofSeconds(1);
    assertThatThrownBy(() -> new MigrationStreamWriter(List.of(), timeout))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("channel count 0");
    List<WritableByteChannel> many =
        Collections.nCopies(65, Channels.newChannel(new ByteArrayOutputStream()));
    assertThatThrownBy(() -> new MigrationStreamWriter(many, timeout))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("channel count 65");
  }

  private static byte[] withoutMigrationId(byte[] payload) {
    ByteBuffer.wrap(payload).putLong(4, 0);
    return payload;
  }

  private long sizeOf(IoAction action) throws IOException {
    long before = writer.bytesWritten();
    action.run();
    return writer.bytesWritten() - before;
  }

  private interface IoAction {
    void run() throws IOException;
  }
}
