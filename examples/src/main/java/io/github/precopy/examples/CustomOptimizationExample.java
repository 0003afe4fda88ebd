package io.github.precopy.examples;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.MigrationConfig;
import io.github.precopy.core.MigrationEngine;
import io.github.precopy.core.MigrationStats;
import io.github.precopy.core.MigrationStatus;
import io.github.precopy.core.memory.Guest;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.PrecopyPhase;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Writing an optimisation plugin. An application keeps 64 MiB of memory: a data half it needs and a
 * scratch half of temporary buffers it can rebuild. Its plugin, capability {@code scratch-region},
 * logs every precopy phase and, after each dirty-log sync while the application runs, hints the
 * scratch half as free through the {@link io.github.precopy.spi.FreePageSink}, so that it is not
 * sent. The provider is added with {@link MigrationEngine.Builder#addProvider}; as a jar it would
 * be listed in {@code META-INF/services/io.github.precopy.spi.MigrationOptimizationProvider}
 * instead.
 */
public final class CustomOptimizationExample {

  private static final long MEMORY_BYTES = 64L << 20;
  private static final long SCRATCH_START = MEMORY_BYTES / 2;
  private static final long SCRATCH_BYTES = MEMORY_BYTES - SCRATCH_START;

  private CustomOptimizationExample() {}

  /** Offers capability {@code scratch-region} for one region the application can rebuild. */
  static final class ScratchRegionProvider implements MigrationOptimizationProvider {
    private final long start;
    private final long length;

    ScratchRegionProvider(long start, long length) {
      this.start = start;
      this.length = length;
    }

    @Override
    public String capability() {
      return "scratch-region";
    }

    @Override
    public MigrationOptimization create(OptimizationContext context) {
      return new MigrationOptimization() {
        private final List<PrecopyPhase> phases = Collections.synchronizedList(new ArrayList<>());
        private volatile long hintedPages;

        @Override
        public void onPhase(PrecopyPhase phase) {
          phases.add(phase);
          System.out.println("scratch-region: " + phase);
          if (phase == PrecopyPhase.AFTER_BITMAP_SYNC && context.guestRunning()) {
            hintedPages += context.freePageSink().freePageHint(start, length);
          }
        }

        @Override
        public Map<String, Object> statistics() {
          return Map.of("phases", (long) phases.size(), "hinted-pages", hintedPages);
        }
      };
    }
  }

  /**
   * The application as the engine sees it: its memory, nothing to stop (it does not write while
   * migrating), and which pages it has in use: the data half only.
   */
  static final class Application implements Guest {
    private final GuestMemory memory;
    private volatile boolean running = true;

    Application(GuestMemory memory) {
      this.memory = memory;
    }

    @Override
    public GuestMemory memory() {
      return memory;
    }

    @Override
    public void pause() {
      running = false;
    }

    @Override
    public void resume() {
      running = true;
    }

    @Override
    public boolean isRunning() {
      return running;
    }

    @Override
    public PageBitmap pagesInUse(RamBlock block) {
      PageBitmap inUse = new PageBitmap(block.pageCount());
      inUse.setRange(0, SCRATCH_START / GuestMemory.PAGE_SIZE);
      return inUse;
    }
  }

  /**
   * Runs the example.
   *
   * @throws IllegalStateException if the scratch half was sent or the data did not arrive intact
   */
  public static void main(String[] args) throws InterruptedException {
    MigrationEngine engine =
        MigrationEngine.builder()
            .addProvider(new ScratchRegionProvider(SCRATCH_START, SCRATCH_BYTES))
            .build();
    try (GuestMemory source = GuestMemory.anonymous(MEMORY_BYTES);
        GuestMemory destination = GuestMemory.anonymous(MEMORY_BYTES)) {
      source.fill(0, SCRATCH_START, (byte) 0x5a);
      source.fill(SCRATCH_START, SCRATCH_BYTES, (byte) 0x33);

      MigrationStats stats =
          engine
              .startInProcess(
                  new Application(source),
                  destination,
                  MigrationConfig.builder().capability("scratch-region").build())
              .await();

      System.out.printf(
          "status %s: %d pages sent, scratch-region %s, verification %d mismatches in %d pages%n",
          stats.status().qemuName(),
          stats.ram().normal(),
          stats.optimizations().get("scratch-region"),
          stats.verification().mismatches(),
          stats.verification().pagesChecked());
      long scratchPages = SCRATCH_BYTES / GuestMemory.PAGE_SIZE;
      if (stats.status() != MigrationStatus.COMPLETED
          || stats.verification().mismatches() != 0
          || !stats.optimizations().get("scratch-region").get("hinted-pages").equals(scratchPages)
          || stats.ram().normal() != MEMORY_BYTES / GuestMemory.PAGE_SIZE - scratchPages) {
        throw new IllegalStateException("expected only the data half to be sent: " + stats);
      }
    }
  }
}
