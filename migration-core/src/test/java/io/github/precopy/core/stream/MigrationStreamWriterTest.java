package io.github.precopy.core.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.core.GuestMemory;
import io.github.precopy.core.RamBlock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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
    writer.writeEndOfStream();

    byte[] expected =
        StreamBytes.header(memory)
            .zero(0, 0, 0)
            .u64(4096 | StreamBytes.PAGE | StreamBytes.CONTINUE)
            .bytes(filled(0x7E))
            .page(1, 1, 0)
            .zero(0, 3, 0)
            .eos(4)
            .toByteArray();
    assertThat(out.toByteArray()).isEqualTo(expected);
    assertThat(writer.bytesWritten()).isEqualTo(expected.length);
    assertThat(writer.zeroPagesWritten()).isEqualTo(2);
    assertThat(writer.normalPagesWritten()).isEqualTo(2);
  }

  @Test
  void recordSizesAreThirteenAndNineBytesForZeroPagesAndAddTheBlockIdOnlyOnSwitch()
      throws IOException {
    writer.writeHeader(memory.blocks());
    assertThat(writer.bytesWritten()).isEqualTo(20 + (18 + 6) + (18 + 8));

    assertThat(sizeOf(() -> writer.writeZeroPage(ram, 0))).isEqualTo(13);
    assertThat(sizeOf(() -> writer.writeZeroPage(ram, 1))).isEqualTo(9);
    assertThat(sizeOf(() -> writer.writePage(ram, 2))).isEqualTo(8 + 4096);
    assertThat(sizeOf(() -> writer.writePage(vram, 0))).isEqualTo(12 + 4096);
    assertThat(sizeOf(() -> writer.writeZeroPage(ram, 0))).isEqualTo(13);
    assertThat(sizeOf(writer::writeEndOfStream)).isEqualTo(16);
  }

  @Test
  void holdsRecordsInItsBufferUntilFlushed() throws IOException {
    writer.writeHeader(memory.blocks());
    writer.writePage(ram, 0);
    assertThat(out.size()).isZero();

    writer.flush();

    assertThat(out.size()).isEqualTo(writer.bytesWritten());
  }

  @Test
  void aSmallBufferDrainsAsItFillsAndProducesTheSameBytes() throws IOException {
    ByteArrayOutputStream small = new ByteArrayOutputStream();
    MigrationStreamWriter smallWriter = new MigrationStreamWriter(small, 8192);
    for (MigrationStreamWriter w : List.of(writer, smallWriter)) {
      w.writeHeader(memory.blocks());
      for (long page = 0; page < ram.pageCount(); page++) {
        w.writePage(ram, page);
        w.writeZeroPage(vram, page % 2);
      }
      w.writeEndOfStream();
    }
    assertThat(small.toByteArray()).isEqualTo(out.toByteArray());
    assertThat(smallWriter.bytesWritten()).isEqualTo(small.size());
  }

  @Test
  void refusesRecordsBeforeTheHeaderAndAfterTheEndOfStream() throws IOException {
    assertThatThrownBy(() -> writer.writePage(ram, 0))
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
    assertThatThrownBy(() -> writer.writeZeroPage(ram, 4))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> writer.writePage(ram, -1))
        .isInstanceOf(IndexOutOfBoundsException.class);

    assertThat(writer.bytesWritten()).isEqualTo(before);
    assertThat(writer.zeroPagesWritten() + writer.normalPagesWritten()).isZero();
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
  void refusesABufferSmallerThanTwoPages() {
    assertThatThrownBy(() -> new MigrationStreamWriter(out, 8191))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private long sizeOf(IoAction action) throws IOException {
    long before = writer.bytesWritten();
    action.run();
    return writer.bytesWritten() - before;
  }

  private static byte[] filled(int value) {
    byte[] page = new byte[4096];
    Arrays.fill(page, (byte) value);
    return page;
  }

  private interface IoAction {
    void run() throws IOException;
  }
}
