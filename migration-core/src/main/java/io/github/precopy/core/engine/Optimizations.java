package io.github.precopy.core.engine;

import io.github.precopy.core.stream.StreamFormat;
import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.PageCodec;
import io.github.precopy.spi.PageEncoder;
import io.github.precopy.spi.PrecopyPhase;
import io.github.precopy.spi.SyncPeriod;
import java.lang.System.Logger.Level;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The optimisations taking part in one migration, notified in capability-name order. One that
 * throws is reported, closed and dropped, and the migration carries on without it, as QEMU treats
 * notifier errors. Phases are delivered on the migration thread; {@link #statistics()} may be
 * called from any thread and never waits for a phase in progress.
 */
public final class Optimizations {

  private static final System.Logger LOG = System.getLogger(Optimizations.class.getName());

  private final Map<String, MigrationOptimization> active = new ConcurrentSkipListMap<>();
  private final Map<String, String> errors = new ConcurrentSkipListMap<>();
  private final Map<String, Map<String, Object>> finalStatistics = new ConcurrentSkipListMap<>();

  private volatile PageEncoding pageEncoding;

  public Optimizations(
      Map<String, MigrationOptimizationProvider> providers, OptimizationContext context) {
    providers.forEach(
        (name, provider) -> {
          try {
            MigrationOptimization optimization = provider.create(context);
            active.put(name, optimization);
            PageCodec codec = provider.pageCodec();
            PageEncoder encoder = codec == null ? null : optimization.pageEncoder();
            if (encoder != null && pageEncoding == null) {
              pageEncoding =
                  new PageEncoding(
                      name,
                      encoder,
                      Math.min(codec.maxEncodedBytes(), StreamFormat.MAX_ENCODED_BYTES));
            }
          } catch (RuntimeException | LinkageError e) {
            fail(name, "create", e);
          }
        });
  }

  /**
   * The encoder of pages sent again, of the enabled capability that has one (at most one does), or
   * null.
   *
   * @param capability the capability, which names the page codec in the stream
   * @param encoder its optimisation's encoder
   * @param maxEncodedBytes the most bytes it writes for a page, at most 4095
   */
  public record PageEncoding(String capability, PageEncoder encoder, int maxEncodedBytes) {}

  /** The page encoding in use, or null: none was enabled, or it failed. */
  public PageEncoding pageEncoding() {
    return pageEncoding;
  }

  /**
   * Reports that the page encoder threw or broke its contract: it is used no more (the pages it
   * would have encoded go whole), and its optimisation carries on otherwise.
   */
  public void encoderFailed(RuntimeException e) {
    PageEncoding failed = pageEncoding;
    pageEncoding = null;
    if (failed != null) {
      fail(failed.capability(), "encode", e);
    }
  }

  public void notify(PrecopyPhase phase) {
    for (var it = active.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, MigrationOptimization> entry = it.next();
      try {
        entry.getValue().onPhase(phase);
      } catch (RuntimeException | LinkageError e) {
        it.remove();
        fail(entry.getKey(), phase.name(), e);
        closeQuietly(entry.getKey(), entry.getValue());
      }
    }
  }

  /** Gives every optimisation the dirty-rate period a sync closed, as {@link #notify} a phase. */
  public void onSyncPeriod(SyncPeriod period) {
    for (var it = active.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, MigrationOptimization> entry = it.next();
      try {
        entry.getValue().onSyncPeriod(period);
      } catch (RuntimeException | LinkageError e) {
        it.remove();
        fail(entry.getKey(), "onSyncPeriod", e);
        closeQuietly(entry.getKey(), entry.getValue());
      }
    }
  }

  /** Closes every optimisation, keeping its last statistics. */
  public void close() {
    pageEncoding = null;
    active.forEach(
        (name, optimization) -> {
          finalStatistics.put(name, statisticsOf(optimization));
          active.remove(name);
          closeQuietly(name, optimization);
        });
  }

  public Map<String, Map<String, Object>> statistics() {
    Map<String, Map<String, Object>> result = new TreeMap<>(finalStatistics);
    active.forEach((name, optimization) -> result.put(name, statisticsOf(optimization)));
    errors.forEach((name, error) -> result.put(name, Map.of("error", error)));
    return result;
  }

  private static Map<String, Object> statisticsOf(MigrationOptimization optimization) {
    try {
      return Collections.unmodifiableMap(new LinkedHashMap<>(optimization.statistics()));
    } catch (RuntimeException e) {
      return Map.of("error", "statistics failed: " + e);
    }
  }

  private void fail(String name, String during, Throwable e) {
    PageEncoding encoding = pageEncoding;
    if (encoding != null && encoding.capability().equals(name)) {
      pageEncoding = null;
    }
    errors.put(name, during + " failed: " + e);
    LOG.log(
        Level.WARNING,
        "optimisation " + name + " failed during " + during + "; continuing without it",
        e);
  }

  private void closeQuietly(String name, MigrationOptimization optimization) {
    try {
      optimization.close();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "optimisation " + name + " failed to close", e);
    }
  }
}
