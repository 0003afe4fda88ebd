package io.github.precopy.bench;

import io.github.precopy.bitmap.AtomicPageBitmap;
import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.sim.Units;
import io.github.precopy.spi.WriteTracker;
import io.github.precopy.spi.WriteTrackingProvider;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The kernel's dirty tracking (write-tracking provider {@code kernel}: userfaultfd asynchronous
 * write-protect and {@code PAGEMAP_SCAN}, found through the SPI with {@link ServiceLoader}) side by
 * side with the software dirty log ({@link AtomicPageBitmap}), in one run:
 *
 * <ol>
 *   <li>the cost of the first write to a page after it was protected: one {@code long} stored into
 *       each page of a region the kernel tracks (each store takes a minor fault that the kernel
 *       resolves itself), against the same store followed by {@link AtomicPageBitmap#markDirty},
 *       what the software log costs per write, and against the plain store into untracked memory;
 *   <li>the time to collect the dirty set of each {@code --memory} size with each {@code
 *       --fractions} of its pages written (every n-th page, evenly spread): the kernel's {@code
 *       collect}, which also protects the pages again, against {@link
 *       AtomicPageBitmap#drainInto(PageBitmap)} with the same pages marked.
 * </ol>
 *
 * <p>The memory is files on {@code /dev/shm} mapped in chunks of at most 1 GiB and deleted once
 * mapped, every page touched before any measurement so that no figure includes the allocation of a
 * page; each size is unmapped before the next is mapped. Each figure is the median of {@code
 * --repeats} rounds after one round of warm-up.
 *
 * <pre>{@code
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     io.github.precopy.bench.WriteTrackingComparison --memory 1g,16g --repeats 5
 * }</pre>
 *
 * <p>It needs a build on JDK 22 or later (which adds module {@code kernel} to the jar) and Linux
 * 6.7 or later; otherwise it says why and exits 1.
 */
@Command(
    name = "WriteTrackingComparison",
    sortOptions = false,
    description = {
      "Compares the kernel's dirty tracking (userfaultfd write-protect + PAGEMAP_SCAN) with the"
          + " software dirty log: cost of a first write, and time to collect the dirty set."
    },
    footer = {
      "Example:",
      "  java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \\",
      "      io.github.precopy.bench.WriteTrackingComparison --memory 1g,16g --repeats 5"
    })
public final class WriteTrackingComparison implements Callable<Integer> {

  private static final int PAGE = 4096;
  private static final long CHUNK = 1L << 30;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Print this help and exit.")
  private boolean help;

  @Option(
      names = "--memory",
      defaultValue = "1g,16g",
      split = ",",
      converter = MemorySize.class,
      paramLabel = "SIZE",
      description =
          "Sizes whose dirty set is collected, comma-separated (default: ${DEFAULT-VALUE}).")
  private List<Long> sizes;

  @Option(
      names = "--fractions",
      defaultValue = "0.001,0.1,1",
      split = ",",
      paramLabel = "F",
      description =
          "Fractions of the pages written before each collect, in (0, 1] (default:"
              + " ${DEFAULT-VALUE}).")
  private List<Double> fractions;

  @Option(
      names = "--write-memory",
      defaultValue = "1g",
      converter = MemorySize.class,
      paramLabel = "SIZE",
      description =
          "Region whose pages are written once each, per round (default: ${DEFAULT-VALUE}).")
  private long writeBytes;

  @Option(
      names = "--repeats",
      defaultValue = "5",
      paramLabel = "N",
      description = "Measured rounds per figure, after one of warm-up (default: ${DEFAULT-VALUE}).")
  private int repeats;

  @Option(
      names = "--directory",
      defaultValue = "/dev/shm",
      paramLabel = "DIR",
      description = "Where the memory's files are created, on tmpfs (default: ${DEFAULT-VALUE}).")
  private Path directory;

  @Spec private CommandSpec spec;

  private long sink;

  public static void main(String[] args) {
    Cli.exit(new WriteTrackingComparison(), args);
  }

  @Override
  public Integer call() throws Exception {
    if (repeats < 1) {
      throw new ParameterException(spec.commandLine(), "--repeats must be >= 1");
    }
    for (double fraction : fractions) {
      if (!(fraction > 0 && fraction <= 1)) {
        throw new ParameterException(
            spec.commandLine(), "--fractions must be in (0, 1], got " + fraction);
      }
    }
    WriteTrackingProvider kernel = kernelProvider();
    kernel
        .unavailableReason()
        .ifPresent(
            reason -> {
              throw new IllegalStateException(reason);
            });
    System.out.printf(
        Locale.ROOT,
        "# write tracking comparison: kernel (userfaultfd WP_ASYNC + PAGEMAP_SCAN) vs software"
            + " (AtomicPageBitmap); first writes over %s, collects over %s with %s of the pages"
            + " written; memory on %s; median of %d rounds after 1 of warm-up%n",
        Units.formatBytes(writeBytes),
        sizes.stream().map(Units::formatBytes).toList(),
        fractions,
        directory,
        repeats);
    MachineInfo.print();

    firstWrites(kernel);
    collects(kernel);
    return 0;
  }

  /** The provider named {@code kernel}, found with ServiceLoader. */
  private static WriteTrackingProvider kernelProvider() {
    Iterator<WriteTrackingProvider> providers =
        ServiceLoader.load(WriteTrackingProvider.class).iterator();
    while (true) {
      WriteTrackingProvider provider;
      try {
        if (!providers.hasNext()) {
          break;
        }
        provider = providers.next();
      } catch (ServiceConfigurationError | LinkageError e) {
        throw new IllegalStateException(
            "the kernel write tracking provider cannot load on this JDK (it needs JDK 22 or"
                + " later): "
                + e.getMessage());
      }
      if (provider.name().equals("kernel")) {
        return provider;
      }
    }
    throw new IllegalStateException(
        "no write tracking provider named kernel on the class path: build the benchmarks on JDK 22"
            + " or later");
  }

  // ---------------------------------------------------------------------------------------------
  // (a) The first write to each page.

  private void firstWrites(WriteTrackingProvider kernel) throws IOException {
    long pages = writeBytes / PAGE;
    List<MappedByteBuffer> tracked = map(writeBytes);
    List<MappedByteBuffer> untracked = map(writeBytes);
    double[] kernelNanos = new double[repeats];
    double[] softwareNanos = new double[repeats];
    double[] plainNanos = new double[repeats];
    try (WriteTracker tracker = kernel.open(new ArrayList<>(tracked))) {
      AtomicPageBitmap log = new AtomicPageBitmap(pages);
      PageBitmap drained = new PageBitmap(pages);
      for (int round = -1; round < repeats; round++) {
        long start = System.nanoTime();
        storeEachPage(tracked, round);
        double kernelRound = (double) (System.nanoTime() - start) / pages;
        long reported = tracker.collect((first, count) -> {});
        check(reported == pages, "kernel reported " + reported + " of " + pages + " pages");

        start = System.nanoTime();
        storeEachPageAndMark(untracked, log, round);
        double softwareRound = (double) (System.nanoTime() - start) / pages;
        drained.clear();
        long marked = log.drainInto(drained);
        check(marked == pages, "software log held " + marked + " of " + pages + " pages");

        start = System.nanoTime();
        storeEachPage(untracked, round);
        double plainRound = (double) (System.nanoTime() - start) / pages;
        if (round >= 0) {
          kernelNanos[round] = kernelRound;
          softwareNanos[round] = softwareRound;
          plainNanos[round] = plainRound;
        }
      }
    } finally {
      unmap(tracked);
      unmap(untracked);
    }
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "First write to each page of %s (%d pages), one long stored per page, in page order:%n%n",
        Units.formatBytes(writeBytes),
        pages);
    System.out.println("| writer | ns per page, median | min | max |");
    System.out.println("|---|---:|---:|---:|");
    row("kernel: store into a write-protected page (minor fault)", kernelNanos);
    row("software: store + AtomicPageBitmap.markDirty", softwareNanos);
    row("plain store, untracked", plainNanos);
    System.out.flush();
  }

  private static void row(String writer, double[] nanos) {
    double[] sorted = nanos.clone();
    java.util.Arrays.sort(sorted);
    System.out.printf(
        Locale.ROOT,
        "| %s | %.1f | %.1f | %.1f |%n",
        writer,
        median(nanos),
        sorted[0],
        sorted[sorted.length - 1]);
  }

  private static void storeEachPage(List<MappedByteBuffer> chunks, long value) {
    for (MappedByteBuffer chunk : chunks) {
      int capacity = chunk.capacity();
      for (int offset = 0; offset < capacity; offset += PAGE) {
        chunk.putLong(offset, value);
      }
    }
  }

  private static void storeEachPageAndMark(
      List<MappedByteBuffer> chunks, AtomicPageBitmap log, long value) {
    long page = 0;
    for (MappedByteBuffer chunk : chunks) {
      int capacity = chunk.capacity();
      for (int offset = 0; offset < capacity; offset += PAGE) {
        chunk.putLong(offset, value);
        log.markDirty(page++);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // (b) Collecting the dirty set.

  private record CollectRow(
      long size, double fraction, long written, double kernelMillis, double softwareMillis) {}

  private void collects(WriteTrackingProvider kernel) throws IOException {
    warmUpDrain();
    warmUpCollect(kernel);
    List<CollectRow> rows = new ArrayList<>();
    for (long size : sizes) {
      long pages = size / PAGE;
      List<MappedByteBuffer> chunks = map(size);
      try {
        long openStart = System.nanoTime();
        try (WriteTracker tracker = kernel.open(new ArrayList<>(chunks))) {
          System.err.printf(
              Locale.ROOT,
              "%s: opened (registered and write-protected) in %.1f ms%n",
              Units.formatBytes(size),
              (System.nanoTime() - openStart) / 1e6);
          long stray = tracker.collect((first, count) -> {});
          check(stray == 0, "a collect right after open reported " + stray + " pages");
          AtomicPageBitmap log = new AtomicPageBitmap(pages);
          PageBitmap target = new PageBitmap(pages);
          for (double fraction : fractions) {
            long stride = Math.max(1, Math.round(1 / fraction));
            long expected = (pages + stride - 1) / stride;
            double[] kernelMillis = new double[repeats];
            double[] softwareMillis = new double[repeats];
            for (int round = -1; round < repeats; round++) {
              writeEvery(chunks, stride, round);
              long start = System.nanoTime();
              long reported = tracker.collect((first, count) -> {});
              double kernelRound = (System.nanoTime() - start) / 1e6;
              check(reported == expected, "kernel reported " + reported + " of " + expected);

              target.clear();
              for (long page = 0; page < pages; page += stride) {
                log.markDirty(page);
              }
              start = System.nanoTime();
              long drained = log.drainInto(target);
              double softwareRound = (System.nanoTime() - start) / 1e6;
              check(drained == expected, "software drained " + drained + " of " + expected);
              if (round >= 0) {
                kernelMillis[round] = kernelRound;
                softwareMillis[round] = softwareRound;
              }
            }
            CollectRow row =
                new CollectRow(
                    size, fraction, expected, median(kernelMillis), median(softwareMillis));
            System.err.printf(
                Locale.ROOT,
                "%s, %s written: kernel %.3f ms, software %.3f ms%n",
                Units.formatBytes(size),
                percent(fraction),
                row.kernelMillis(),
                row.softwareMillis());
            rows.add(row);
          }
        }
      } finally {
        unmap(chunks);
      }
    }
    System.out.println();
    System.out.println(
        "Collect the dirty set (every n-th page written), kernel PAGEMAP_SCAN (reports and"
            + " re-protects) vs AtomicPageBitmap.drainInto(PageBitmap):");
    System.out.println();
    System.out.println(
        "| memory | written | pages written | kernel collect, ms median | software drain, ms median"
            + " | kernel / software |");
    System.out.println("|---|---:|---:|---:|---:|---:|");
    for (CollectRow row : rows) {
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %d | %.3f | %.3f | %.1f |%n",
          Units.formatBytes(row.size()),
          percent(row.fraction()),
          row.written(),
          row.kernelMillis(),
          row.softwareMillis(),
          row.kernelMillis() / row.softwareMillis());
    }
    System.out.println("# sink " + sink);
    System.out.flush();
  }

  /**
   * Compiles {@link AtomicPageBitmap#drainInto} before it is timed: a round per fraction calls it a
   * few times only, too few for the JIT, and a small log's drain would be timed interpreted.
   */
  private static void warmUpDrain() {
    long bits = 1L << 22;
    AtomicPageBitmap log = new AtomicPageBitmap(bits);
    PageBitmap target = new PageBitmap(bits);
    for (int i = 0; i < 300; i++) {
      log.markDirtyRange(0, bits / (1 + i % 3));
      for (long bit = i; bit < bits; bit += 997) {
        log.markDirty(bit);
      }
      target.clear();
      log.drainInto(target);
    }
  }

  /**
   * Compiles the kernel tracker's collect before it is timed: its Java side reads each page range
   * the scan returns from native memory, slow until compiled (a first size's collect of 10 % of 1
   * GiB took 9 ms interpreted, 16 GiB's took 22 ms compiled).
   */
  private void warmUpCollect(WriteTrackingProvider kernel) throws IOException {
    List<MappedByteBuffer> chunks = map(16L << 20);
    try (WriteTracker tracker = kernel.open(new ArrayList<>(chunks))) {
      for (int i = 0; i < 200; i++) {
        writeEvery(chunks, 2 + i % 2, i);
        tracker.collect((first, count) -> {});
      }
    } finally {
      unmap(chunks);
    }
  }

  private static String percent(double fraction) {
    return String.format(Locale.ROOT, "%s %%", stripZeros(fraction * 100));
  }

  private static String stripZeros(double value) {
    return java.math.BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
  }

  private static void writeEvery(List<MappedByteBuffer> chunks, long stride, long value) {
    long page = 0;
    for (MappedByteBuffer chunk : chunks) {
      long chunkPages = chunk.capacity() / PAGE;
      long first = (stride - page % stride) % stride;
      for (long p = first; p < chunkPages; p += stride) {
        chunk.putLong((int) (p * PAGE), value);
      }
      page += chunkPages;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Memory.

  /** {@code bytes} of shared memory in chunks of at most 1 GiB, every page touched. */
  private List<MappedByteBuffer> map(long bytes) throws IOException {
    List<MappedByteBuffer> chunks = new ArrayList<>();
    try {
      for (long offset = 0; offset < bytes; offset += CHUNK) {
        long length = Math.min(CHUNK, bytes - offset);
        Path file = Files.createTempFile(directory, "precopy-write-tracking", ".mem");
        try (FileChannel channel =
            FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
          chunks.add(channel.map(FileChannel.MapMode.READ_WRITE, 0, length));
        } finally {
          Files.delete(file);
        }
      }
      for (MappedByteBuffer chunk : chunks) {
        for (int offset = 0; offset < chunk.capacity(); offset += PAGE) {
          chunk.putLong(offset, -1L);
        }
        sink += chunk.getLong(0);
      }
      return chunks;
    } catch (IOException | RuntimeException | Error e) {
      unmap(chunks);
      throw e;
    }
  }

  /** Unmaps {@code chunks} now, so that their memory is back before the next size is mapped. */
  private static void unmap(List<MappedByteBuffer> chunks) {
    try {
      Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
      Field field = unsafeClass.getDeclaredField("theUnsafe");
      field.setAccessible(true);
      Object unsafe = field.get(null);
      Method invokeCleaner = unsafeClass.getMethod("invokeCleaner", ByteBuffer.class);
      for (MappedByteBuffer chunk : chunks) {
        invokeCleaner.invoke(unsafe, chunk);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      System.gc();
    }
    chunks.clear();
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    int middle = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  }

  private static void check(boolean condition, String message) {
    if (!condition) {
      throw new IllegalStateException(message);
    }
  }
}
