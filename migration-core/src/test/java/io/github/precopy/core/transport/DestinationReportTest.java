package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.core.testing.StreamBytes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * The destination's reply: {@link DestinationReport#writeTo} and {@link
 * DestinationReport#readFrom}.
 */
final class DestinationReportTest {

  /** Magic, version, completed, five counts, text length, (text), checksum. */
  private static final int FIXED_BYTES = 8 + 4 + 1 + 6 * 8 + 2 + 4;

  @Test
  void verifiedNeedsACompletedStreamWithADigestAndNoMismatch() {
    assertThat(new DestinationReport(true, 1, 2, 0, 3, 4, 0, null).verified()).isTrue();
    assertThat(new DestinationReport(true, 1, 2, 0, 3, 0, 0, null).verified()).isFalse();
    assertThat(new DestinationReport(true, 1, 2, 0, 3, 4, 1, "page 1").verified()).isFalse();
    assertThat(new DestinationReport(false, 1, 2, 0, 3, 4, 0, "cut").verified()).isFalse();
  }

  @Test
  void aReplyWithoutFailureTextRoundTrips() throws IOException {
    DestinationReport report = new DestinationReport(true, 10, 20, 0, 123_456_789L, 30, 0, null);

    byte[] reply = write(report);

    assertThat(reply).hasSize(FIXED_BYTES);
    assertThat(DestinationReport.readFrom(new ByteArrayInputStream(reply))).isEqualTo(report);
  }

  @Test
  void aReplyWithFailureTextRoundTripsEveryCountAndTheText() throws IOException {
    DestinationReport report =
        new DestinationReport(
            false, Long.MAX_VALUE, -1, 0, 1L << 40, 7, 3, "record 5 at byte 90: ünknown flags ✗");

    byte[] reply = write(report);

    assertThat(reply)
        .hasSize(FIXED_BYTES + report.failure().getBytes(StandardCharsets.UTF_8).length);
    assertThat(DestinationReport.readFrom(new ByteArrayInputStream(reply))).isEqualTo(report);
  }

  @Test
  void theLayoutIsMagicVersionFlagCountsTextAndCrc32cOfAllBefore() throws IOException {
    byte[] reply = write(new DestinationReport(true, 1, 2, 3, 4, 5, 6, "ab"));

    ByteBuffer in = ByteBuffer.wrap(reply);
    assertThat(in.getLong()).isEqualTo(0x505245434F505952L);
    assertThat(in.getInt()).isEqualTo(3);
    assertThat(in.get()).isEqualTo((byte) 1);
    for (long count = 1; count <= 6; count++) {
      assertThat(in.getLong()).isEqualTo(count);
    }
    assertThat(in.getShort()).isEqualTo((short) 2);
    assertThat(in.get()).isEqualTo((byte) 'a');
    assertThat(in.get()).isEqualTo((byte) 'b');
    CRC32C crc = new CRC32C();
    crc.update(reply, 0, reply.length - 4);
    assertThat(in.getInt()).isEqualTo((int) crc.getValue());
    assertThat(in.hasRemaining()).isFalse();
  }

  @Test
  void aLongFailureTextIsCutTo2048Bytes() throws IOException {
    String text = "x".repeat(1000) + "y".repeat(4000);
    DestinationReport report = new DestinationReport(false, 1, 2, 0, 3, 0, 0, text);

    byte[] reply = write(report);
    DestinationReport read = DestinationReport.readFrom(new ByteArrayInputStream(reply));

    assertThat(reply).hasSize(FIXED_BYTES + 2048);
    assertThat(read.failure()).isEqualTo(text.substring(0, 2048));
    assertThat(read)
        .isEqualTo(new DestinationReport(false, 1, 2, 0, 3, 0, 0, text.substring(0, 2048)));
  }

  @Test
  void readingStopsAtTheEndOfTheReply() throws IOException {
    DestinationReport report = new DestinationReport(true, 1, 0, 0, 99, 1, 0, "first");
    ByteArrayInputStream in =
        new ByteArrayInputStream(StreamBytes.concat(write(report), new byte[] {42}));

    assertThat(DestinationReport.readFrom(in)).isEqualTo(report);
    assertThat(in.read()).isEqualTo(42);
  }

  @Test
  void everyCorruptedByteOfAReplyIsRejected() throws IOException {
    byte[] reply = write(new DestinationReport(false, 5, 6, 0, 7, 8, 9, "record 3 at byte 4: bad"));
    for (int at = 0; at < reply.length; at++) {
      for (int xor : new int[] {0x01, 0x80, 0xFF}) {
        byte[] corrupted = reply.clone();
        corrupted[at] ^= (byte) xor;

        assertThatThrownBy(() -> DestinationReport.readFrom(new ByteArrayInputStream(corrupted)))
            .as("byte %d ^ 0x%x", at, xor)
            .isInstanceOf(IOException.class)
            .hasMessageStartingWith("destination's reply: ");
      }
    }
  }

  @Test
  void everyTruncatedReplyIsRejected() throws IOException {
    byte[] reply = write(new DestinationReport(true, 5, 6, 0, 7, 8, 0, "text"));
    for (int length = 0; length < reply.length; length++) {
      byte[] prefix = Arrays.copyOf(reply, length);

      assertThatThrownBy(() -> DestinationReport.readFrom(new ByteArrayInputStream(prefix)))
          .as("prefix of %d bytes", length)
          .isInstanceOf(IOException.class)
          .hasMessageContaining("without a complete reply");
    }
  }

  @Test
  void aReplyOfAnotherVersionOrWithAnAbsurdTextLengthIsRejected() throws IOException {
    byte[] reply = write(new DestinationReport(true, 1, 2, 0, 3, 4, 0, null));
    byte[] version1 = reply.clone();
    ByteBuffer.wrap(version1).putInt(8, 1);
    byte[] longText = reply.clone();
    ByteBuffer.wrap(longText).putShort(8 + 4 + 1 + 48, (short) 2049);

    assertThatThrownBy(() -> DestinationReport.readFrom(new ByteArrayInputStream(version1)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("unsupported version 1");
    assertThatThrownBy(() -> DestinationReport.readFrom(new ByteArrayInputStream(longText)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("failure text of 2049 bytes");
  }

  private static byte[] write(DestinationReport report) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    report.writeTo(out);
    return out.toByteArray();
  }
}
