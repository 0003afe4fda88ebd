package io.github.precopy.bench;

import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.PageDecoder;
import io.github.precopy.spi.PageEncoder;
import io.github.precopy.spi.RamRegion;
import io.github.precopy.spi.testing.FakeOptimizationContext;
import io.github.precopy.spi.testing.RecordingFreePageSink;
import io.github.precopy.xbzrle.XbzrleProvider;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The {@code xbzrle} plugin's encoder and decoder (issue #13), through the SPI as the engine calls
 * them: each invocation changes page {@code i} of a 64 MiB area (16,384 pages, every one in the
 * default 64 MiB cache) as the kind says, encodes it against the cached copy, and decodes the
 * encoding onto the previous contents. Kinds: {@code SPARSE} (QEMU's test writer: one byte per
 * quarter of the page incremented), {@code UNCHANGED} (the encoder finds nothing to send), {@code
 * HALF} (a random half of the 512 words rewritten: the encoding overflows and the page goes whole).
 * Scores are ns per page; 4096 / score is GB/s of pages.
 *
 * <pre>{@code
 * java -jar bench/target/benchmarks.jar XbzrleCodecBenchmark -f 2 -wi 2 -w 1s -i 3 -r 1s
 * }</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
public class XbzrleCodecBenchmark {

  private static final int PAGE = 4096;
  private static final int PAGES = 16_384;

  /** How a page changes between two sends. */
  public enum Change {
    SPARSE,
    UNCHANGED,
    HALF
  }

  @Param({"SPARSE", "UNCHANGED", "HALF"})
  Change change;

  private MigrationOptimization xbzrle;
  private PageEncoder encoder;
  private PageDecoder decoder;
  private byte[] pages;
  private byte[] held;
  private final ByteBuffer out = ByteBuffer.allocate(PAGE);
  private final SplittableRandom random = new SplittableRandom(1);
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    XbzrleProvider provider = new XbzrleProvider();
    OptimizationContext context =
        new FakeOptimizationContext(
            List.of(new RamRegion("pc.ram", 0, (long) PAGES * PAGE)),
            new RecordingFreePageSink(),
            null);
    xbzrle = provider.create(context);
    encoder = xbzrle.pageEncoder();
    decoder = provider.pageCodec().decoder();
    pages = new byte[PAGES * PAGE];
    random.nextBytes(pages);
    held = pages.clone();
    for (int page = 0; page < PAGES; page++) {
      out.clear();
      encoder.encode(0, page, pages, page * PAGE, out);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    xbzrle.close();
  }

  /** Changes the next page, encodes it, and applies the encoding to the copy held before. */
  @Benchmark
  public int encodeAndDecode() {
    int page = next;
    next = (next + 1) % PAGES;
    int at = page * PAGE;
    switch (change) {
      case SPARSE -> {
        for (int quarter = 0; quarter < 4; quarter++) {
          pages[at + quarter * (PAGE / 4)]++;
        }
      }
      case HALF -> {
        for (int word = 0; word < PAGE / 8; word += 2) {
          pages[at + word * 8 + random.nextInt(8)] ^= (byte) (1 + random.nextInt(255));
        }
      }
      case UNCHANGED -> {}
    }
    out.clear();
    int length = encoder.encode(0, page, pages, at, out);
    if (length > 0) {
      out.flip();
      decoder.decode(out, held, at);
    } else if (length < 0) {
      System.arraycopy(pages, at, held, at, PAGE);
    }
    return length;
  }
}
