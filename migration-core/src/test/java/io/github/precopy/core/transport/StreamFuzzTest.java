package io.github.precopy.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.stream.MigrationStreamException;
import io.github.precopy.core.stream.MigrationStreamWriter;
import io.github.precopy.core.testing.StreamBytes;
import io.github.precopy.core.testing.TestMemories;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of the decoder with mutations of a valid stream of every record kind. Raw
 * mutations of the framed bytes must all be rejected, since every frame is checksummed;
 * structure-aware mutations of the unframed payload, re-framed with correct checksums so that they
 * reach the record validator, must either load or be rejected with a {@link
 * MigrationStreamException}, never anything else.
 *
 * <p>{@code -Dprecopy.fuzz.cases=N} sets the number of cases per test (default 2000, a few
 * seconds); {@code -Dprecopy.seed=S} replays a run. Each case draws from a random source of its
 * own, seeded from the run's seed and the case's index alone, so case {@code i} of seed {@code S}
 * is the same whatever the number of cases. A failing case is reported with its case seed, and
 * {@code -Dprecopy.fuzz.replay=C} runs that case alone, exactly.
 */
final class StreamFuzzTest {

  private static final int CASES = Integer.getInteger("precopy.fuzz.cases", 2000);

  /** A case seed to run alone, as a failure prints it; null to run {@link #CASES} cases. */
  private static final Long REPLAY = Long.getLong("precopy.fuzz.replay");

  /**
   * A case of the kind the on-demand run of a million cases failed on (here case 1,376,753 of seed
   * 0): the payload is truncated to nothing, then a byte of it is to be changed at a random
   * position, which the harness drew from an empty range ("bound must be positive") before it
   * learned to skip such a step.
   */
  static final long EMPTIED_PAYLOAD_CASE = 68728829653077679L;

  private static GuestMemory source;
  private static GuestMemory destination;
  private static byte[] valid;
  private static byte[] payload;
  private static int[] cuts;

  /** Stream offsets of every byte but those of page payloads. */
  private static int[] structureOffsets;

  /** The records of {@link #payload} framed as one frame; their offsets minus 20 are payload's. */
  private static StreamBytes.Decoded records;

  @BeforeAll
  static void writeValidStream() throws IOException {
    source =
        GuestMemory.builder()
            .anonymousBlock("pc.ram", 0, 160 * 4096)
            .anonymousBlock("vga.vram", 0x100000, 16 * 4096)
            .build();
    destination = TestMemories.sameLayout(source);
    SplittableRandom random = new SplittableRandom(42);
    source.fill(0, 160 * 4096, (byte) 0x11);
    RamBlock ram = source.blocks().get(0);
    RamBlock vram = source.blocks().get(1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MigrationStreamWriter writer = new MigrationStreamWriter(out, 8192);
    writer.writeHeader(source.blocks());
    for (int i = 0; i < 60; i++) {
      RamBlock block = random.nextInt(3) == 0 ? vram : ram;
      writer.writeZeroPage(block, random.nextLong(block.pageCount()));
    }
    for (int i = 0; i < 3; i++) {
      writer.writePage(ram, random.nextLong(ram.pageCount()));
    }
    PageBitmap inUse = new PageBitmap(ram.pageCount());
    for (long page = 0; page < ram.pageCount(); page += 1 + random.nextInt(5)) {
      inUse.set(page);
    }
    writer.writeDigest(ram, inUse);
    writer.writeDigest(vram, null);
    writer.writeEndOfStream();
    valid = out.toByteArray();
    payload = StreamBytes.payloadOf(valid);
    cuts = StreamBytes.cutsOf(valid);
    records = StreamBytes.decode(StreamBytes.framed(payload));

    boolean[] pageBytes = new boolean[valid.length];
    for (StreamBytes.Record page : StreamBytes.decode(valid).records(StreamBytes.PAGE)) {
      Arrays.fill(pageBytes, page.payloadOffset(), page.end(), true);
    }
    structureOffsets =
        java.util.stream.IntStream.range(0, valid.length).filter(i -> !pageBytes[i]).toArray();
    assertThat(StreamBytes.decode(valid).frames()).hasSizeGreaterThan(2);
  }

  @AfterAll
  static void close() {
    source.close();
    destination.close();
  }

  @Test
  void rawMutationsAndTruncationsOfTheFramedStreamAreAllRejected() {
    String test = "rawMutationsAndTruncationsOfTheFramedStreamAreAllRejected";
    long seed = TestMemories.seed(test);
    long start = System.nanoTime();
    int[] byKind = new int[6];
    int cases = REPLAY == null ? CASES : 1;
    assertTimeoutPreemptively(
        budget(),
        () -> {
          for (int i = 0; i < cases; i++) {
            long caseSeed = REPLAY == null ? caseSeed(seed, i) : REPLAY;
            RawCase result = run(test, seed, i, caseSeed, mutation -> rawCase(caseSeed, mutation));
            if (result == null) {
              continue;
            }
            byKind[result.kind]++;
            if (result.outcome.loaded) {
              throw failure(test, seed, i, caseSeed, result.mutation, "was loaded", null);
            }
          }
        });
    System.out.printf(
        "fuzz raw: %d cases (byte, burst, truncation, byte+truncation, deletion, insertion: %s),"
            + " 0 loaded, all rejected, in %d ms%n",
        cases, Arrays.toString(byKind), millisSince(start));
  }

  @Test
  void structureAwareMutationsEitherLoadOrAreRejectedWithAStreamException() {
    String test = "structureAwareMutationsEitherLoadOrAreRejectedWithAStreamException";
    long seed = TestMemories.seed(test);
    long start = System.nanoTime();
    int[] counts = new int[2];
    int cases = REPLAY == null ? CASES : 1;
    assertTimeoutPreemptively(
        budget(),
        () -> {
          for (int i = 0; i < cases; i++) {
            long caseSeed = REPLAY == null ? caseSeed(seed, i) : REPLAY;
            StructureCase result =
                run(test, seed, i, caseSeed, mutation -> structureAwareCase(caseSeed, mutation));
            counts[result.outcome.loaded ? 0 : 1]++;
          }
        });
    System.out.printf(
        "fuzz structure-aware: %d cases, %d loaded, %d rejected, in %d ms%n",
        cases, counts[0], counts[1], millisSince(start));
    if (cases >= 500) {
      assertThat(counts[0]).as("some mutations are harmless").isPositive();
      assertThat(counts[1]).as("most are rejected").isGreaterThan(cases / 2);
    }
  }

  /** The case the on-demand run failed on: a step after the payload was emptied is skipped. */
  @Test
  void aMutationOfAPayloadTruncatedToNothingIsSkipped() {
    StructureCase result = structureAwareCase(EMPTIED_PAYLOAD_CASE, new StringBuilder());

    assertThat(result.mutation)
        .contains("payload truncated to 0; ")
        .contains("skipped: the payload is empty; ");
    assertThat(result.outcome.failure).isNull();
    assertThat(result.outcome.loaded).isFalse();
  }

  @Test
  void aCaseIsTheSameWhateverTheNumberOfCasesAndReplaysFromItsSeedAlone() {
    long seed = 1234;
    long caseSeed = caseSeed(seed, 4_321);

    StructureCase once = structureAwareCase(caseSeed, new StringBuilder());
    StructureCase again = structureAwareCase(caseSeed(seed, 4_321), new StringBuilder());

    assertThat(again.mutation).isEqualTo(once.mutation);
    assertThat(caseSeed(seed, 4_320))
        .isNotEqualTo(caseSeed)
        .isNotEqualTo(caseSeed(seed + 1, 4_321));
    AssertionError failure =
        failure("someTest", seed, 4_321, caseSeed, "byte 3 ^= 0x1; ", "was loaded", null);
    assertThat(failure.getMessage())
        .contains("case 4321 of seed 1234")
        .contains("-Dtest=StreamFuzzTest#someTest -Dprecopy.fuzz.replay=" + caseSeed)
        .doesNotContain("\n");
  }

  /** The seed of case {@code index} of a run: SplitMix64 of the pair, independent of the count. */
  static long caseSeed(long seed, long index) {
    long z = seed + (index + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** One raw case: what was done, its kind, and the outcome; null if it left the stream intact. */
  private record RawCase(int kind, String mutation, Outcome outcome) implements Described {}

  /** One structure-aware case: what was done and the outcome. */
  private record StructureCase(String mutation, Outcome outcome) implements Described {}

  /** A case's description of what it did. */
  private interface Described {
    String mutation();

    Outcome outcome();
  }

  private static RawCase rawCase(long caseSeed, StringBuilder mutation) {
    SplittableRandom random = new SplittableRandom(caseSeed);
    int kind = random.nextInt(6);
    byte[] stream = rawMutation(random, kind, mutation);
    if (Arrays.equals(stream, valid)) {
      return null;
    }
    return new RawCase(kind, mutation.toString(), receive(stream));
  }

  private static StructureCase structureAwareCase(long caseSeed, StringBuilder mutation) {
    SplittableRandom random = new SplittableRandom(caseSeed);
    byte[] mutated = payloadMutation(random, mutation);
    byte[] stream = reframe(mutated, random, mutation);
    return new StructureCase(mutation.toString(), receive(stream));
  }

  /** One case, describing what it does in {@code mutation} as it goes. */
  @FunctionalInterface
  private interface CaseBody<T> {
    T run(StringBuilder mutation);
  }

  /**
   * Runs one case; whatever goes wrong in it, the harness included, fails with the line that
   * replays it.
   */
  private static <T extends Described> T run(
      String test, long seed, int index, long caseSeed, CaseBody<T> body) {
    StringBuilder mutation = new StringBuilder();
    T result;
    try {
      result = body.run(mutation);
    } catch (Throwable e) {
      throw failure(test, seed, index, caseSeed, mutation.toString(), "failed: " + e, e);
    }
    if (result != null && result.outcome().failure != null) {
      throw failure(
          test,
          seed,
          index,
          caseSeed,
          result.mutation(),
          "failed: " + result.outcome().failure,
          result.outcome().failure);
    }
    return result;
  }

  private static AssertionError failure(
      String test,
      long seed,
      int index,
      long caseSeed,
      String mutation,
      String what,
      Throwable cause) {
    return new AssertionError(
        ((REPLAY != null ? "the replayed case" : "case " + index + " of seed " + seed)
                + " ("
                + mutation
                + ") "
                + what
                + "; replay it alone with -Dtest=StreamFuzzTest#"
                + test
                + " -Dprecopy.fuzz.replay="
                + caseSeed)
            .replaceAll("\\R", " "),
        cause);
  }

  private static Duration budget() {
    return Duration.ofSeconds(Math.max(60, CASES / 100L));
  }

  private static long millisSince(long start) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  /** The outcome of one receive: loaded, or rejected cleanly, or {@code failure} otherwise. */
  private record Outcome(boolean loaded, Throwable failure) {}

  private static Outcome receive(byte[] stream) {
    Destination receiver = new Destination(destination);
    try {
      DestinationReport report = receiver.receive(new ByteArrayInputStream(stream));
      if (!report.completed() || receiver.report().orElseThrow() != report) {
        return new Outcome(true, new AssertionError("returned " + report));
      }
      return new Outcome(true, null);
    } catch (MigrationStreamException e) {
      DestinationReport report = receiver.report().orElse(null);
      if (report == null || report.completed() || !e.getMessage().equals(report.failure())) {
        return new Outcome(false, new AssertionError("rejected, but reported " + report, e));
      }
      return new Outcome(false, null);
    } catch (Throwable e) {
      return new Outcome(false, e);
    }
  }

  // ------------------------------------------------------------------ raw mutations

  private static byte[] rawMutation(SplittableRandom random, int kind, StringBuilder mutation) {
    byte[] stream = valid.clone();
    switch (kind) {
      case 0 -> xorByte(stream, position(random), random, mutation);
      case 1 -> {
        int at = position(random);
        int length = 2 + random.nextInt(3);
        for (int i = at; i < Math.min(stream.length, at + length); i++) {
          xorByte(stream, i, random, mutation);
        }
      }
      case 2 -> stream = truncate(stream, random, mutation);
      case 3 -> {
        xorByte(stream, position(random), random, mutation);
        stream = truncate(stream, random, mutation);
      }
      case 4 -> {
        int at = position(random);
        stream = splice(stream, at, at + 1, new byte[0]);
        mutation.append("deleted byte ").append(at);
      }
      default -> {
        int at = random.nextInt(stream.length + 1);
        byte value = (byte) random.nextInt(256);
        stream = splice(stream, at, at, new byte[] {value});
        mutation.append("inserted ").append(value & 0xFF).append(" at ").append(at);
      }
    }
    return stream;
  }

  /** Mostly bytes outside page payloads (headers, words, ids, digests), sometimes any byte. */
  private static int position(SplittableRandom random) {
    return random.nextInt(4) == 0
        ? random.nextInt(valid.length)
        : structureOffsets[random.nextInt(structureOffsets.length)];
  }

  private static void xorByte(
      byte[] bytes, int at, SplittableRandom random, StringBuilder mutation) {
    int xor = 1 + random.nextInt(255);
    bytes[at] ^= (byte) xor;
    mutation
        .append("byte ")
        .append(at)
        .append(" ^= 0x")
        .append(Integer.toHexString(xor))
        .append("; ");
  }

  private static byte[] truncate(byte[] bytes, SplittableRandom random, StringBuilder mutation) {
    int length = random.nextInt(bytes.length);
    mutation.append("truncated to ").append(length).append("; ");
    return Arrays.copyOf(bytes, length);
  }

  private static byte[] splice(byte[] bytes, int from, int to, byte[] insert) {
    return StreamBytes.concat(
        Arrays.copyOfRange(bytes, 0, from), insert, Arrays.copyOfRange(bytes, to, bytes.length));
  }

  // ------------------------------------------------------- structure-aware mutations

  private static byte[] payloadMutation(SplittableRandom random, StringBuilder mutation) {
    byte[] mutated = payload.clone();
    List<StreamBytes.Record> all = records.records();
    StreamBytes.Record record = all.get(random.nextInt(all.size()));
    int at = record.streamOffset() - 20;
    int payloadAt = record.payloadOffset() - 20;
    int count = 1 + (random.nextInt(4) == 0 ? random.nextInt(4) : 0);
    for (int n = 0; n < count; n++) {
      int operator = random.nextInt(11);
      mutation.append(operator).append(':');
      if (mutated.length == 0 && (operator <= 1 || operator == 7)) {
        // A step at a position inside the payload: there is none.
        mutation.append("skipped: the payload is empty; ");
        continue;
      }
      switch (operator) {
        case 0 -> xorByte(mutated, random.nextInt(mutated.length), random, mutation);
        case 1 -> xorByte(mutated, random.nextInt(Math.min(200, mutated.length)), random, mutation);
        case 2 -> {
          if (at + 8 > mutated.length) {
            break;
          }
          int flags = random.nextInt(0x1000);
          mutated[at + 6] = (byte) ((mutated[at + 6] & 0xF0) | (flags >>> 8));
          mutated[at + 7] = (byte) flags;
          mutation
              .append("record at ")
              .append(at)
              .append(" flags 0x")
              .append(Integer.toHexString(flags))
              .append("; ");
        }
        case 3 -> {
          if (!record.continued() && record.kind() != StreamBytes.EOS) {
            int[] ids = {0, 1, 2, -1, random.nextInt()};
            int id = ids[random.nextInt(ids.length)];
            putInt(mutated, at + 8, id);
            mutation.append("record at ").append(at).append(" block id ").append(id).append("; ");
          }
        }
        case 4 -> {
          if (at + 8 > mutated.length) {
            break;
          }
          long page = random.nextInt(200);
          long word = getLong(mutated, at);
          putLong(mutated, at, (word & 0xFFF) | page << 12);
          mutation.append("record at ").append(at).append(" page ").append(page).append("; ");
        }
        case 5 -> {
          StreamBytes.Record eos = all.get(all.size() - 1);
          int field = eos.payloadOffset() - 20 + 8 * random.nextInt(2);
          if (field + 8 > mutated.length) {
            break;
          }
          long delta = random.nextBoolean() ? 1 : -1;
          putLong(mutated, field, getLong(mutated, field) + delta);
          mutation.append("EOS count at ").append(field).append(" + ").append(delta).append("; ");
        }
        case 6 -> {
          if (record.kind() == StreamBytes.DIGEST) {
            long mask = random.nextBoolean() ? random.nextLong() : 1L << random.nextInt(64);
            putLong(mutated, payloadAt, mask);
            mutation
                .append("DIGEST at ")
                .append(at)
                .append(" mask ")
                .append(Long.toHexString(mask))
                .append("; ");
          }
        }
        case 7 -> {
          int from = random.nextInt(mutated.length);
          int to = Math.min(mutated.length, from + 1 + random.nextInt(16));
          mutated = splice(mutated, from, to, new byte[0]);
          mutation.append("deleted [").append(from).append(", ").append(to).append("); ");
        }
        case 8 -> {
          byte[] insert = new byte[1 + random.nextInt(16)];
          random.nextBytes(insert);
          int where = random.nextInt(mutated.length + 1);
          mutated = splice(mutated, where, where, insert);
          mutation
              .append("inserted ")
              .append(insert.length)
              .append(" bytes at ")
              .append(where)
              .append("; ");
        }
        case 9 -> {
          byte[] copy = Arrays.copyOfRange(payload, at, record.end() - 20);
          int where = Math.min(mutated.length, record.end() - 20);
          mutated = splice(mutated, where, where, copy);
          mutation.append("repeated record at ").append(at).append("; ");
        }
        default -> {
          int length = random.nextInt(mutated.length + 1);
          mutated = Arrays.copyOf(mutated, length);
          mutation.append("payload truncated to ").append(length).append("; ");
        }
      }
    }
    return mutated;
  }

  /**
   * Frames the payload with correct checksums: as one frame, at the original cuts, or at random.
   */
  private static byte[] reframe(byte[] mutated, SplittableRandom random, StringBuilder mutation) {
    if (mutated.length == 0) {
      mutation.append("no frame");
      return StreamBytes.prelude();
    }
    int framing = random.nextInt(3);
    List<Integer> at = new ArrayList<>();
    if (framing == 1) {
      for (int cut : cuts) {
        at.add(cut);
      }
    } else if (framing == 2) {
      for (int i = random.nextInt(6); i > 0; i--) {
        at.add(random.nextInt(mutated.length));
      }
    }
    int[] sorted =
        at.stream().mapToInt(Integer::intValue).filter(c -> c < mutated.length).sorted().toArray();
    mutation.append("framed at ").append(Arrays.toString(sorted));
    return StreamBytes.framed(mutated, sorted);
  }

  private static long getLong(byte[] bytes, int at) {
    return java.nio.ByteBuffer.wrap(bytes).getLong(at);
  }

  private static void putLong(byte[] bytes, int at, long value) {
    if (at >= 0 && at + 8 <= bytes.length) {
      java.nio.ByteBuffer.wrap(bytes).putLong(at, value);
    }
  }

  private static void putInt(byte[] bytes, int at, int value) {
    if (at >= 0 && at + 4 <= bytes.length) {
      java.nio.ByteBuffer.wrap(bytes).putInt(at, value);
    }
  }
}
