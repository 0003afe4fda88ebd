package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.stream.MigrationStreamException;
import io.github.precopy.core.stream.MigrationStreamWriter;
import io.github.precopy.core.testing.StreamBytes;
import io.github.precopy.core.testing.TestMemories;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A small but real snapshot of about 94 KiB, written by {@link MigrationStreamWriter} with a 12 KiB
 * buffer so that it has many frames: two blocks (pc.ram of 80 pages, so two digest stripes, and
 * vga.vram of 16), a mix of ZERO and PAGE records (one page in five non-zero), pages resent after a
 * change, DIGEST records for every page and the end of stream. The tests prove that no single
 * corrupted byte and no truncation of it gets past {@link
 * Destination#receive(java.io.InputStream)}: each is rejected with a {@link
 * MigrationStreamException} and a report that says not completed.
 *
 * <p>Every byte of the prelude, the frame headers, the channel header, the record words and block
 * ids, the ZERO fill bytes, the DIGEST and EOS records, and of the first and last page carried, is
 * corrupted; of the other pages' payloads every 7th byte. Each chosen byte is corrupted twice: by
 * flipping its lowest bit, and by xor with a non-zero value drawn from the printed seed. The cases
 * run on up to four threads ({@code -Dprecopy.integrity.threads=N} to choose), each with its own
 * destination memory; {@code -Dprecopy.seed=S} replays a run.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
final class SnapshotIntegrityTest {

  private static final int BUFFER_BYTES = 12 * 1024;
  private static final int PAYLOAD_SAMPLE = 7;

  private static long seed;
  private static GuestMemory source;
  private static byte[] snapshot;
  private static StreamBytes.Decoded layout;
  private static long digestPages;

  @BeforeAll
  static void writeSnapshot() throws IOException {
    seed = TestMemories.seed("SnapshotIntegrityTest");
    SplittableRandom random = new SplittableRandom(seed);
    source =
        GuestMemory.builder()
            .anonymousBlock("pc.ram", 0x100000, 80 * 4096)
            .anonymousBlock("vga.vram", 0x10000000, 16 * 4096)
            .build();
    RamBlock ram = source.blocks().get(0);
    RamBlock vram = source.blocks().get(1);
    for (long page = 0; page < ram.pageCount(); page += 5) {
      writeNonZeroPage(ram, page, random);
    }
    for (long page = 0; page < vram.pageCount(); page += 4) {
      writeNonZeroPage(vram, page, random);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MigrationStreamWriter writer = new MigrationStreamWriter(out, BUFFER_BYTES);
    writer.writeHeader(source.blocks());
    for (long page = 0; page < ram.pageCount(); page++) {
      send(writer, ram, page);
      if (page % 5 == 0) {
        send(writer, vram, page / 5);
      }
    }
    for (int i = 0; i < 6; i++) {
      RamBlock block = i % 3 == 0 ? vram : ram;
      long page = random.nextLong(block.pageCount());
      if (i % 2 == 0) {
        writeNonZeroPage(block, page, random);
      } else {
        source.fill(block.guestAddress() + page * 4096, 4096, (byte) 0);
      }
      send(writer, block, page);
    }
    writer.writeDigest(ram, null);
    writer.writeDigest(vram, null);
    writer.writeEndOfStream();
    snapshot = out.toByteArray();
    layout = StreamBytes.decode(snapshot);
    digestPages = writer.digestPagesWritten();

    assertThat(writer.bytesWritten()).isEqualTo(snapshot.length);
    assertThat(layout.frames()).hasSizeGreaterThan(8);
    assertThat(layout.records(StreamBytes.ZERO)).hasSizeGreaterThan(60);
    assertThat(layout.records(StreamBytes.PAGE)).hasSizeBetween(20, 23);
    assertThat(layout.records(StreamBytes.DIGEST)).hasSize(3);
    assertThat(digestPages).isEqualTo(96);
    System.out.printf(
        "snapshot: %d bytes, %d frames, %d ZERO, %d PAGE, %d DIGEST records%n",
        snapshot.length,
        layout.frames().size(),
        layout.records(StreamBytes.ZERO).size(),
        layout.records(StreamBytes.PAGE).size(),
        layout.records(StreamBytes.DIGEST).size());
  }

  /** Random bytes, or zeros but for the last byte (which a short zero check would miss). */
  private static void writeNonZeroPage(RamBlock block, long page, SplittableRandom random) {
    byte[] data = new byte[4096];
    if (random.nextInt(4) == 0) {
      data[4095] = (byte) (1 + random.nextInt(255));
    } else {
      random.nextBytes(data);
      data[0] |= 1;
    }
    source.write(block.guestAddress() + page * 4096, data, 0, data.length);
  }

  private static void send(MigrationStreamWriter writer, RamBlock block, long page)
      throws IOException {
    if (block.isZeroPage(page)) {
      writer.writeZeroPage(block, page);
    } else {
      writer.writePage(block, page);
    }
  }

  @AfterAll
  static void close() {
    source.close();
  }

  @Test
  void theUncorruptedSnapshotLoadsByteForByteAndVerifiesEveryDigestedPage() throws IOException {
    try (GuestMemory fresh = TestMemories.sameLayout(source)) {
      DestinationReport report = new Destination(fresh).receive(new ByteArrayInputStream(snapshot));

      assertThat(report.completed()).isTrue();
      assertThat(report.verified()).isTrue();
      assertThat(report.pagesVerified()).isEqualTo(digestPages).isEqualTo(96);
      assertThat(report.mismatches()).isZero();
      assertThat(report.failure()).isNull();
      assertThat(report.bytesRead()).isEqualTo(snapshot.length);
      for (int b = 0; b < source.blocks().size(); b++) {
        RamBlock from = source.blocks().get(b);
        for (long p = 0; p < from.pageCount(); p++) {
          assertThat(fresh.blocks().get(b).samePage(p, from))
              .as("seed %d: %s page %d", seed, from.name(), p)
              .isTrue();
        }
      }
    }
  }

  @Test
  void everySingleByteCorruptionIsRejectedBeforeCompletion() throws Exception {
    boolean[] sampledOnly = pagePayloadBytesSampled();
    int[] frameOf = frameIndexOfEveryByte();
    int[] offsets =
        IntStream.range(0, snapshot.length)
            .filter(at -> !sampledOnly[at] || at % PAYLOAD_SAMPLE == 0)
            .toArray();
    long start = System.nanoTime();

    inParallel(
        offsets.length,
        (i, target, stream) -> {
          int at = offsets[i];
          byte original = stream[at];
          for (int xor : new int[] {0x01, randomXor(at)}) {
            stream[at] = (byte) (original ^ xor);
            String why =
                rejection(
                    target,
                    stream,
                    stream.length,
                    "seed " + seed + ": byte " + at + " ^ 0x" + hex(xor));
            assertCaughtWhereExpected(at, frameOf[at], why);
          }
          stream[at] = original;
        });

    System.out.printf(
        "integrity: %d corruptions of %d of the %d bytes rejected in %d ms%n",
        2 * offsets.length, offsets.length, snapshot.length, millisSince(start));
    assertThat(offsets.length).isGreaterThan(snapshot.length / PAYLOAD_SAMPLE);
  }

  @Test
  void everyTruncationIsRejectedBeforeCompletion() throws Exception {
    long start = System.nanoTime();

    inParallel(
        snapshot.length,
        (length, target, stream) -> {
          String why = rejection(target, stream, length, "seed " + seed + ": prefix of " + length);
          if (!why.contains("stream truncated in ")) {
            throw new AssertionError(
                "prefix of " + length + " rejected for another reason: " + why);
          }
        });

    System.out.printf(
        "integrity: %d truncations rejected in %d ms%n", snapshot.length, millisSince(start));
  }

  /** A non-zero xor value for the byte at {@code at}, drawn from the seed. */
  private static int randomXor(int at) {
    return 1 + new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (at + 1))).nextInt(255);
  }

  /** One check of case {@code index} against a thread's own destination memory and stream copy. */
  private interface Check {
    void run(int index, GuestMemory target, byte[] stream) throws Exception;
  }

  /**
   * Runs cases 0 to {@code count - 1} on up to four threads, each with a destination memory and a
   * copy of the snapshot of its own; rethrows the first failure.
   */
  private static void inParallel(int count, Check check) throws Exception {
    int threads =
        Integer.getInteger(
            "precopy.integrity.threads",
            Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())));
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> parts = new ArrayList<>();
      for (int k = 0; k < threads; k++) {
        int first = k;
        parts.add(
            pool.submit(
                () -> {
                  byte[] stream = snapshot.clone();
                  try (GuestMemory target = TestMemories.sameLayout(source)) {
                    for (int i = first; i < count; i += threads) {
                      check.run(i, target, stream);
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> part : parts) {
        try {
          part.get();
        } catch (ExecutionException e) {
          pool.shutdownNow();
          if (e.getCause() instanceof Error error) {
            throw error;
          }
          throw (Exception) e.getCause();
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Receives {@code stream[0, length)} into {@code target} and returns the rejection's message;
   * fails unless the destination threw a {@link MigrationStreamException} and reports not
   * completed.
   */
  private static String rejection(GuestMemory target, byte[] stream, int length, String what) {
    Destination destination = new Destination(target);
    DestinationReport accepted;
    try {
      accepted = destination.receive(new ByteArrayInputStream(stream, 0, length));
    } catch (MigrationStreamException e) {
      DestinationReport report = destination.report().orElseThrow();
      if (report.completed() || report.verified() || !e.getMessage().equals(report.failure())) {
        throw new AssertionError(what + ": " + e.getMessage() + " but reported " + report);
      }
      return e.getMessage();
    } catch (Throwable e) {
      throw new AssertionError(what + ": not a MigrationStreamException", e);
    }
    throw new AssertionError(what + ": accepted, " + accepted);
  }

  private static long millisSince(long start) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  /**
   * A corrupted prelude is named as such; a corrupted checksum or payload byte is caught by the
   * frame checksum (CRC32C catches every burst of up to 32 bits), never by a later check; a
   * corrupted length is caught one way or another.
   */
  private static void assertCaughtWhereExpected(int at, int frame, String why) {
    String expected;
    if (at < 8) {
      expected = "bad magic";
    } else if (at < 12) {
      expected = "unsupported version";
    } else if (at - layout.frames().get(frame).streamOffset() < 4) {
      return;
    } else {
      expected = "frame checksum";
    }
    if (!why.contains(expected)) {
      throw new AssertionError("byte " + at + ": expected \"" + expected + "\", got: " + why);
    }
  }

  /** For each stream byte, whether it is a page payload byte we only sample. */
  private static boolean[] pagePayloadBytesSampled() {
    boolean[] sampled = new boolean[snapshot.length];
    List<StreamBytes.Record> pages = new ArrayList<>(layout.records(StreamBytes.PAGE));
    for (StreamBytes.Record page : pages.subList(1, pages.size() - 1)) {
      for (int at = page.payloadOffset(); at < page.end(); at++) {
        sampled[at] = true;
      }
    }
    return sampled;
  }

  /** For each stream byte, the index of its frame (-1 in the prelude). */
  private static int[] frameIndexOfEveryByte() {
    int[] frameOf = new int[snapshot.length];
    Arrays.fill(frameOf, -1);
    List<StreamBytes.Frame> frames = layout.frames();
    for (int f = 0; f < frames.size(); f++) {
      for (int at = frames.get(f).streamOffset(); at < frames.get(f).end(); at++) {
        frameOf[at] = f;
      }
    }
    return frameOf;
  }

  private static String hex(int value) {
    return Integer.toHexString(value);
  }
}
