package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.stream.MigrationStreamException;
import io.github.precopy.core.stream.MigrationStreamWriter;
import io.github.precopy.core.testing.StreamBytes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The DIGEST records: the destination compares the CRC32C of every page the source had in use with
 * the page it holds once the stream is applied, and reports the outcome in {@link
 * DestinationReport#verified()}, apart from whether the stream itself was well-formed.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
final class DigestVerificationTest {

  private static final int PAGES = 8;

  private GuestMemory source;
  private GuestMemory destination;
  private RamBlock block;

  @BeforeEach
  void setUp() {
    source = GuestMemory.anonymous(PAGES * 4096L);
    destination = GuestMemory.anonymous(PAGES * 4096L);
    block = source.blocks().get(0);
    for (int page = 0; page < PAGES; page++) {
      source.fill(page * 4096L, 4096, (byte) (0x10 + page));
    }
  }

  @AfterEach
  void tearDown() {
    source.close();
    destination.close();
  }

  @Test
  void aPageTheStreamDoesNotCarryButTheSourceDigestsIsReportedAsAMismatch() throws IOException {
    destination.fill(5 * 4096L, 4096, (byte) 0x77);
    byte[] stream = sendAllPagesBut(5, null);

    DestinationReport report = receive(stream);

    assertThat(report.completed()).isTrue();
    assertThat(report.pagesVerified()).isEqualTo(PAGES);
    assertThat(report.mismatches()).isEqualTo(1);
    assertThat(report.verified()).isFalse();
    assertThat(report.failure()).isEqualTo("page 5 of block pc.ram differs from the source");
  }

  @Test
  void aPageTheStreamDoesNotCarryButTheDestinationAlreadyHoldsIsVerified() throws IOException {
    destination.fill(5 * 4096L, 4096, (byte) 0x15);
    byte[] stream = sendAllPagesBut(5, null);

    DestinationReport report = receive(stream);

    assertThat(report.verified()).isTrue();
    assertThat(report.pagesVerified()).isEqualTo(PAGES);
    assertThat(report.failure()).isNull();
  }

  @Test
  void pagesNotSetInTheInUseBitmapAreNotChecked() throws IOException {
    destination.fill(5 * 4096L, 4096, (byte) 0x77);
    PageBitmap inUse = new PageBitmap(PAGES);
    inUse.setRange(0, PAGES);
    inUse.clear(5);
    byte[] stream = sendAllPagesBut(5, inUse);

    DestinationReport report = receive(stream);

    assertThat(report.completed()).isTrue();
    assertThat(report.pagesVerified()).isEqualTo(PAGES - 1);
    assertThat(report.mismatches()).isZero();
    assertThat(report.verified()).isTrue();
    assertThat(report.failure()).isNull();
    assertThat(destination.readLong(5 * 4096L)).isEqualTo(0x7777777777777777L);
  }

  @Test
  void everyDifferingPageCountsAndTheReportNamesTheFirst() throws IOException {
    destination.fill(2 * 4096L, 4096, (byte) 0x77);
    destination.fill(6 * 4096L, 4096, (byte) 0x77);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MigrationStreamWriter writer = new MigrationStreamWriter(out);
    writer.writeHeader(source.blocks());
    for (long page : new long[] {0, 1, 3, 4, 5, 7}) {
      writer.writePage(block, page);
    }
    writer.writeDigest(block, null);
    writer.writeEndOfStream();

    DestinationReport report = receive(out.toByteArray());

    assertThat(report.completed()).isTrue();
    assertThat(report.pagesVerified()).isEqualTo(PAGES);
    assertThat(report.mismatches()).isEqualTo(2);
    assertThat(report.failure()).isEqualTo("page 2 of block pc.ram differs from the source");
    assertThat(report.verified()).isFalse();
  }

  @Test
  void writeDigestWithoutABitmapCoversEveryPageOfEveryStripe() throws IOException {
    try (GuestMemory big = GuestMemory.anonymous(150 * 4096L);
        GuestMemory copy = GuestMemory.anonymous(150 * 4096L)) {
      RamBlock ram = big.blocks().get(0);
      big.fill(0, 150 * 4096L, (byte) 0x42);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      MigrationStreamWriter writer = new MigrationStreamWriter(out);
      writer.writeHeader(big.blocks());
      for (long page = 0; page < 150; page++) {
        writer.writePage(ram, page);
      }

      writer.writeDigest(ram, null);
      writer.writeEndOfStream();

      assertThat(writer.digestPagesWritten()).isEqualTo(150);
      List<StreamBytes.Record> digests =
          StreamBytes.decode(out.toByteArray()).records(StreamBytes.DIGEST);
      assertThat(digests).extracting(StreamBytes.Record::page).containsExactly(0L, 64L, 128L);
      assertThat(digests)
          .extracting(StreamBytes.Record::mask)
          .containsExactly(-1L, -1L, (1L << 22) - 1);
      DestinationReport report =
          new Destination(copy).receive(new ByteArrayInputStream(out.toByteArray()));
      assertThat(report.pagesVerified()).isEqualTo(150);
      assertThat(report.verified()).isTrue();
    }
  }

  @Test
  void aStreamWithoutDigestRecordsCompletesButIsNotVerified() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MigrationStreamWriter writer = new MigrationStreamWriter(out);
    writer.writeHeader(source.blocks());
    for (long page = 0; page < PAGES; page++) {
      writer.writePage(block, page);
    }
    writer.writeEndOfStream();

    DestinationReport report = receive(out.toByteArray());

    assertThat(report.completed()).isTrue();
    assertThat(report.normalPages()).isEqualTo(PAGES);
    assertThat(report.pagesVerified()).isZero();
    assertThat(report.mismatches()).isZero();
    assertThat(report.failure()).isNull();
    assertThat(report.verified()).isFalse();
  }

  @Test
  void aDigestIsTheCrc32cOfThePageBytesAsAnIndependentEncoderComputesIt() throws IOException {
    byte[] data = new byte[4096];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 31 + 7);
    }
    int good = StreamBytes.pageChecksum(data);
    byte[] matching =
        StreamBytes.header(destination)
            .page(0, 3, data)
            .digestContinue(0, 0b1000, good)
            .eos(1, 1)
            .toByteArray();
    byte[] differing =
        StreamBytes.header(destination)
            .page(0, 3, data)
            .digestContinue(0, 0b1001, StreamBytes.pageChecksum(0), good ^ 1)
            .eos(1, 2)
            .toByteArray();

    DestinationReport verified = receive(matching);
    DestinationReport mismatched;
    try (GuestMemory other = GuestMemory.anonymous(PAGES * 4096L)) {
      mismatched = new Destination(other).receive(new ByteArrayInputStream(differing));
    }

    assertThat(verified.verified()).isTrue();
    assertThat(verified.pagesVerified()).isEqualTo(1);
    assertThat(mismatched.completed()).isTrue();
    assertThat(mismatched.pagesVerified()).isEqualTo(2);
    assertThat(mismatched.mismatches()).isEqualTo(1);
    assertThat(mismatched.failure()).isEqualTo("page 3 of block pc.ram differs from the source");
  }

  /**
   * Each frame is checksummed on its own and carries no sequence number, so two intact frames in
   * the wrong order pass the frame checks and the record counts. If they hold two versions of one
   * page, the older one wins; the digest is what must catch that: the outcome is never verified.
   */
  @Test
  void framesSwappedToApplyAnOlderVersionOfAPageAreNeverReportedVerified() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MigrationStreamWriter writer = new MigrationStreamWriter(out, 8192);
    writer.writeHeader(source.blocks());
    writer.writePage(block, 0);
    writer.writePage(block, 3);
    writer.writePage(block, 1);
    source.fill(3 * 4096L, 4096, (byte) 0x99);
    writer.writePage(block, 3);
    writer.writePage(block, 2);
    PageBitmap sent = new PageBitmap(PAGES);
    sent.setRange(0, 4);
    writer.writeDigest(block, sent);
    writer.writeEndOfStream();
    byte[] stream = out.toByteArray();
    try (GuestMemory inOrder = GuestMemory.anonymous(PAGES * 4096L)) {
      assertThat(new Destination(inOrder).receive(new ByteArrayInputStream(stream)).verified())
          .as("in order")
          .isTrue();
    }
    StreamBytes.Decoded decoded = StreamBytes.decode(stream);
    List<StreamBytes.Frame> frames = decoded.frames();
    assertThat(frames).hasSize(5);
    assertThat(recordsIn(decoded, frames.get(1))).containsExactly(3L);
    assertThat(recordsIn(decoded, frames.get(3))).containsExactly(3L);

    byte[] swapped =
        StreamBytes.concat(
            Arrays.copyOf(stream, 12),
            bytesOf(stream, frames.get(0)),
            bytesOf(stream, frames.get(3)),
            bytesOf(stream, frames.get(2)),
            bytesOf(stream, frames.get(1)),
            bytesOf(stream, frames.get(4)));

    Destination receiver = new Destination(destination);
    try {
      DestinationReport report = receiver.receive(new ByteArrayInputStream(swapped));
      assertThat(destination.readLong(3 * 4096L))
          .as("the older version")
          .isEqualTo(0x1313131313131313L);
      assertThat(report.verified()).isFalse();
      assertThat(report.mismatches()).isEqualTo(1);
      assertThat(report.failure()).isEqualTo("page 3 of block pc.ram differs from the source");
    } catch (MigrationStreamException rejected) {
      assertThat(receiver.report().orElseThrow().verified()).isFalse();
    }
  }

  @Test
  void aDroppedOrRepeatedFrameFailsTheChecksumOfItsPlace() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MigrationStreamWriter writer = new MigrationStreamWriter(out, 8192);
    writer.writeHeader(source.blocks());
    for (long page = 0; page < 3; page++) {
      writer.writePage(block, page);
    }
    writer.writeEndOfStream();
    byte[] stream = out.toByteArray();
    List<StreamBytes.Frame> frames = StreamBytes.decode(stream).frames();
    assertThat(frames).hasSize(3);
    byte[] prelude = Arrays.copyOf(stream, 12);
    byte[] first = bytesOf(stream, frames.get(0));
    byte[] second = bytesOf(stream, frames.get(1));
    byte[] last = bytesOf(stream, frames.get(2));

    assertRejected(
        StreamBytes.concat(prelude, first, last),
        "as frame 1 of its channel: the stream is corrupted");
    assertRejected(
        StreamBytes.concat(prelude, first, second, second, last),
        "as frame 2 of its channel: the stream is corrupted");
  }

  private void assertRejected(byte[] stream, String problem) throws IOException {
    try (GuestMemory other = GuestMemory.anonymous(PAGES * 4096L)) {
      Destination receiver = new Destination(other);
      try {
        receiver.receive(new ByteArrayInputStream(stream));
        throw new AssertionError("accepted");
      } catch (MigrationStreamException e) {
        assertThat(e).hasMessageContaining(problem);
        assertThat(receiver.report().orElseThrow().completed()).isFalse();
      }
    }
  }

  private static List<Long> recordsIn(StreamBytes.Decoded decoded, StreamBytes.Frame frame) {
    List<Long> pages = new ArrayList<>();
    for (StreamBytes.Record record : decoded.records()) {
      if (record.streamOffset() >= frame.payloadOffset() && record.end() <= frame.end()) {
        pages.add(record.page());
      }
    }
    return pages;
  }

  private static byte[] bytesOf(byte[] stream, StreamBytes.Frame frame) {
    return Arrays.copyOfRange(stream, frame.streamOffset(), frame.end());
  }

  private byte[] sendAllPagesBut(long skipped, PageBitmap inUse) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MigrationStreamWriter writer = new MigrationStreamWriter(out);
    writer.writeHeader(source.blocks());
    for (long page = 0; page < PAGES; page++) {
      if (page != skipped) {
        writer.writePage(block, page);
      }
    }
    writer.writeDigest(block, inUse);
    writer.writeEndOfStream();
    assertThat(writer.digestPagesWritten()).isEqualTo(inUse == null ? PAGES : inUse.cardinality());
    return out.toByteArray();
  }

  private DestinationReport receive(byte[] stream) throws IOException {
    return new Destination(destination).receive(new ByteArrayInputStream(stream));
  }
}
