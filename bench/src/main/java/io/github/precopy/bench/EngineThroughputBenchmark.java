package io.github.precopy.bench;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.GuestMemory;
import java.io.OutputStream;
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
 * The engine's rate for a whole migration of an idle guest, in-process: every page is scanned,
 * checked for zero and either sent as a ZERO record or copied whole into the stream. Divide the
 * guest size ({@code memoryMiB}) by the reported time for GiB of guest RAM per second.
 *
 * <ul>
 *   <li>{@code content=untouched}: a fresh guest whose pages were never written; they are known to
 *       be zero without being read (as the kernel's shared zero page spares QEMU most of the work).
 *   <li>{@code content=zeroed}: every page was written with zeroes, so every page is read and
 *       checked (QEMU's zero-page scan case).
 *   <li>{@code content=data}: every page holds random bytes (QEMU's data-page case).
 *   <li>{@code target=destination}: the stream crosses the in-process pipe to a destination thread
 *       that decodes it and loads the pages into its own memory (two threads busy).
 *   <li>{@code target=null}: the stream goes to a sink that discards it (QEMU's null TCP sink).
 * </ul>
 *
 * <p>The guest has no running workload, so a migration is one bulk round plus an empty final round.
 * Run: {@code java -jar bench/target/benchmarks.jar EngineThroughput -p memoryMiB=1024}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 7)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class EngineThroughputBenchmark {

  @Param({"1024"})
  public int memoryMiB;

  @Param({"untouched", "zeroed", "data"})
  public String content;

  @Param({"destination", "null"})
  public String target;

  private final MigrationEngine engine = MigrationEngine.create();
  private IdleGuest guest;
  private GuestMemory destination;

  @Setup(Level.Trial)
  public void createGuest() {
    long bytes = (long) memoryMiB << 20;
    guest = new IdleGuest(GuestMemory.anonymous(bytes));
    if (!content.equals("untouched")) {
      SplittableRandom random = new SplittableRandom(42);
      byte[] chunk = new byte[1 << 20];
      for (long at = 0; at < bytes; at += chunk.length) {
        if (content.equals("data")) {
          random.nextBytes(chunk);
        }
        guest.memory().write(at, chunk, 0, chunk.length);
      }
    }
    destination = GuestMemory.anonymous(bytes);
  }

  @TearDown(Level.Trial)
  public void close() {
    guest.memory().close();
    destination.close();
  }

  @Benchmark
  public MigrationStats migrate() throws InterruptedException {
    MigrationConfig config = MigrationConfig.builder().verify(false).build();
    MigrationStats stats =
        target.equals("null")
            ? engine.start(guest, config, OutputStream.nullOutputStream(), s -> {}).await()
            : engine.startInProcess(guest, destination, config).await();
    if (stats.status() != MigrationStatus.COMPLETED) {
      throw new IllegalStateException("migration did not complete: " + stats);
    }
    guest.resume();
    return stats;
  }
}
