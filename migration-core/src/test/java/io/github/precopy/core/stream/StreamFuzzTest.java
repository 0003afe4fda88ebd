package io.github.precopy.core.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.github.precopy.core.GuestMemory;
import io.github.precopy.core.RamBlock;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

final class StreamFuzzTest {

  private static final int CASES = 2000;

  @Test
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void mutatedOrTruncatedStreamsEitherLoadOrFailWithAStreamException() throws IOException {
    long seed = TestGuests.seed("mutatedOrTruncatedStreamsEitherLoadOrFailWithAStreamException");
    SplittableRandom random = new SplittableRandom(seed);
    try (GuestMemory source =
            GuestMemory.builder()
                .anonymousBlock("pc.ram", 0, 32 * 4096)
                .anonymousBlock("vga.vram", 0x100000, 16 * 4096)
                .build();
        GuestMemory destination = TestGuests.sameLayout(source)) {
      source.fill(0, 32 * 4096, (byte) 0x11);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int structureBytes = validStream(source, new MigrationStreamWriter(out), random);
      byte[] valid = out.toByteArray();
      int completed = 0;
      int rejected = 0;

      for (int i = 0; i < CASES; i++) {
        byte[] stream = Arrays.copyOf(valid, valid.length);
        String mutation = "";
        int kind = random.nextInt(4);
        if (kind != 0) {
          int at = position(random, structureBytes, stream.length);
          byte value = (byte) (stream[at] ^ (1 + random.nextInt(255)));
          stream[at] = value;
          mutation = "byte " + at + " := " + (value & 0xFF) + "; ";
        }
        if (kind <= 1) {
          int length = random.nextInt(stream.length);
          stream = Arrays.copyOf(stream, length);
          mutation += "truncated to " + length;
        }
        Destination receiver = new Destination(destination);
        try {
          DestinationReport report = receiver.receive(new ByteArrayInputStream(stream));
          assertThat(report.completed()).isTrue();
          completed++;
        } catch (MigrationStreamException e) {
          assertThat(receiver.report())
              .hasValueSatisfying(r -> assertThat(r.completed()).isFalse());
          rejected++;
        } catch (Throwable e) {
          fail("seed %d case %d (%s): %s", seed, i, mutation, e, e);
        }
      }
      System.out.println("fuzz: " + completed + " loaded, " + rejected + " rejected");
      assertThat(rejected).isGreaterThan(CASES / 2);
      assertThat(completed).isPositive();
    }
  }

  /**
   * Writes a stream whose first records are small ZERO records alternating between blocks, so that
   * most of the mutated bytes land on words, block ids and fill bytes; then a few PAGE records and
   * the end of stream. Returns the length of the part before the PAGE records.
   */
  private static int validStream(
      GuestMemory source, MigrationStreamWriter writer, SplittableRandom random)
      throws IOException {
    RamBlock ram = source.blocks().get(0);
    RamBlock vram = source.blocks().get(1);
    writer.writeHeader(source.blocks());
    for (int i = 0; i < 40; i++) {
      RamBlock block = random.nextInt(3) == 0 ? vram : ram;
      writer.writeZeroPage(block, random.nextLong(block.pageCount()));
    }
    int structureBytes = (int) writer.bytesWritten();
    for (int i = 0; i < 3; i++) {
      writer.writePage(ram, random.nextLong(ram.pageCount()));
    }
    writer.writeEndOfStream();
    return structureBytes;
  }

  /** Mostly the header and small records, sometimes the end of stream, rarely page data. */
  private static int position(SplittableRandom random, int structureBytes, int length) {
    int choice = random.nextInt(10);
    if (choice < 7) {
      return random.nextInt(structureBytes);
    }
    if (choice < 9) {
      return length - 1 - random.nextInt(16);
    }
    return random.nextInt(length);
  }
}
