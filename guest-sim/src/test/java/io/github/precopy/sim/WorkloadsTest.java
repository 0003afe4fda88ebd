package io.github.precopy.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;
import static org.assertj.core.api.Assertions.tuple;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import io.github.precopy.core.testing.TestMemories;
import io.github.precopy.spi.testing.Await;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(60)
final class WorkloadsTest {

  private static final long MEMORY = 64L << 20;

  private static SimulatedGuest guest(
      String workload, WorkloadOptions options, long memory, int vcpus, long seed) {
    return SimulatedGuest.builder()
        .memorySize(memory)
        .vcpus(vcpus)
        .seed(seed)
        .workload(workload, options)
        .build();
  }

  @Test
  void anUnknownWorkloadNameIsRejectedWithTheValidNames() {
    assertThatThrownBy(() -> Workloads.create("kernel-build", WorkloadOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "unknown workload 'kernel-build'; valid workloads: idle, compile, busy, hot-set,"
                + " uniform, sparse-writes");
    assertThat(Workloads.names())
        .containsExactly("idle", "compile", "busy", "hot-set", "uniform", "sparse-writes");
  }

  @Test
  void anOptionTheWorkloadDoesNotKnowIsRejectedWithItsOptions() {
    assertThatThrownBy(() -> Workloads.create("idle", WorkloadOptions.parse("working-set=10%")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "workload idle has no option 'working-set'; its options are content, dirty-rate,"
                + " in-use, init-on-alloc, profile, touched");
  }

  @Test
  void optionValuesAreParsedAndValidated() {
    assertThat(WorkloadOptions.parse(" dirty-rate = 128m , touched=60% ").values())
        .containsEntry("dirty-rate", "128m")
        .containsEntry("touched", "60%");
    assertThat(WorkloadOptions.parse("").values()).isEmpty();
    assertThatThrownBy(() -> WorkloadOptions.parse("touched"))
        .hasMessageContaining("not of the form key=value");
    assertThatThrownBy(() -> WorkloadOptions.parse("area=1,area=2"))
        .hasMessageContaining("given twice");
    assertThatThrownBy(() -> Workloads.create("uniform", WorkloadOptions.parse("dirty-rate=fast")))
        .hasMessageContaining("dirty-rate=fast is not bytes per second");
    assertThatThrownBy(() -> Workloads.create("hot-set", WorkloadOptions.parse("working-set=150%")))
        .hasMessageContaining("between 0 and 1");
    assertThatThrownBy(
            () -> Workloads.create("idle", WorkloadOptions.parse("profile=fresh,touched=5%")))
        .hasMessageContaining("touched applies to profile used only");
    assertThatThrownBy(() -> Workloads.create("idle", WorkloadOptions.parse("profile=old")))
        .hasMessageContaining("profile=old is not one of used, fresh");
    assertThatThrownBy(
            () -> Workloads.create("uniform", WorkloadOptions.parse("area=95%,in-use=10%")))
        .hasMessageContaining("exceed 1");
    assertThat(Workloads.create("compile", WorkloadOptions.parse("dirty-rate=1.5g,page-cache=0.1")))
        .isNotNull();
  }

  @Test
  void ratesTakeTheSameUnitsAsEveryOtherSizeUpToT() {
    for (String rate : new String[] {"1t", "1T", "1.5g", "128m/s", "65536"}) {
      assertThat(Workloads.create("uniform", WorkloadOptions.parse("dirty-rate=" + rate)))
          .as(rate)
          .isNotNull();
    }
    assertThatThrownBy(() -> Workloads.create("idle", WorkloadOptions.parse("dirty-rate=0")))
        .hasMessageContaining("dirty-rate=0 is not a positive number of bytes per second");
  }

  @ParameterizedTest
  @ValueSource(strings = {"idle", "compile", "busy", "hot-set", "uniform", "sparse-writes"})
  void eachWorkloadDeclaresItsOptionsWithValidDefaultsAndExamples(String name) {
    List<WorkloadOption> options = Workloads.options(name);

    assertThat(options)
        .extracting(WorkloadOption::name)
        .startsWith("profile", "touched", "in-use", "init-on-alloc", "content");
    assertThatThrownBy(() -> Workloads.create(name, WorkloadOptions.parse("no-such=1")))
        .hasMessageEndingWith(
            "its options are "
                + String.join(
                    ", ", new TreeSet<>(options.stream().map(WorkloadOption::name).toList())));
    for (WorkloadOption option : options) {
      assertThat(option.meaning()).as(option.name()).isNotBlank();
      assertThat(option.valid()).as(option.name()).isNotBlank();
      assertThat(
              Workloads.create(
                  name, WorkloadOptions.defaults().with(option.name(), option.example())))
          .as(name + " " + option.name() + "=" + option.example())
          .isNotNull();
      if (!option.defaultValue().contains(" ")) {
        assertThat(
                Workloads.create(
                    name, WorkloadOptions.defaults().with(option.name(), option.defaultValue())))
            .as(name + " " + option.name() + "=" + option.defaultValue())
            .isNotNull();
      }
    }
    assertThat(Workloads.summary(name)).isNotBlank();
  }

  @Test
  void theDeclaredDefaultsAreTheDefaultsInUse() {
    assertThat(Workloads.options("idle"))
        .extracting(WorkloadOption::name, WorkloadOption::defaultValue)
        .containsExactly(
            tuple("profile", "used"),
            tuple("touched", "75%"),
            tuple("in-use", "0%"),
            tuple("init-on-alloc", "off"),
            tuple("content", "random"),
            tuple("dirty-rate", "64k"));
    assertThat(Workloads.options("compile"))
        .extracting(WorkloadOption::name, WorkloadOption::defaultValue)
        .containsExactly(
            tuple("profile", "used"),
            tuple("touched", "75%"),
            tuple("in-use", "0%"),
            tuple("init-on-alloc", "off"),
            tuple("content", "random"),
            tuple("dirty-rate", "64m per vCPU"),
            tuple("page-cache", "20%"));
    assertThat(Workloads.options("hot-set"))
        .extracting(WorkloadOption::name, WorkloadOption::defaultValue)
        .containsExactly(
            tuple("profile", "used"),
            tuple("touched", "75%"),
            tuple("in-use", "0%"),
            tuple("init-on-alloc", "off"),
            tuple("content", "random"),
            tuple("working-set", "25%"),
            tuple("dirty-rate", "as fast as the vCPUs run"));
    assertThat(Workloads.options("uniform"))
        .extracting(WorkloadOption::name, WorkloadOption::defaultValue)
        .containsExactly(
            tuple("profile", "used"),
            tuple("touched", "75%"),
            tuple("in-use", "0%"),
            tuple("init-on-alloc", "off"),
            tuple("content", "random"),
            tuple("area", "50%"),
            tuple("dirty-rate", "64m"));
    assertThat(Workloads.options("busy"))
        .extracting(WorkloadOption::name, WorkloadOption::defaultValue)
        .containsExactly(
            tuple("profile", "used"),
            tuple("touched", "75%"),
            tuple("in-use", "0%"),
            tuple("init-on-alloc", "off"),
            tuple("content", "random"),
            tuple("working-set", "384m"),
            tuple("min-chunk", "1m"),
            tuple("max-chunk", "64m"),
            tuple("dirty-rate", "512m"));
    assertThatThrownBy(() -> Workloads.options("kernel-build"))
        .hasMessageContaining("valid workloads");
  }

  @ParameterizedTest
  @ValueSource(strings = {"idle", "compile", "busy", "hot-set", "uniform", "sparse-writes"})
  void bootOnOneVcpuIsReproducibleForASeed(String name) {
    long seed = TestMemories.seed("WorkloadsTest reproducibility " + name);
    long memory = 32L << 20;
    // The default 64 MiB buffer of sparse-writes and 384 MiB working set of busy do not fit.
    WorkloadOptions options =
        switch (name) {
          case "sparse-writes" -> WorkloadOptions.parse("buffer=8m");
          case "busy" -> WorkloadOptions.parse("working-set=8m");
          default -> WorkloadOptions.defaults();
        };
    try (SimulatedGuest first = guest(name, options, memory, 1, seed);
        SimulatedGuest second = guest(name, options, memory, 1, seed);
        SimulatedGuest other = guest(name, options, memory, 1, seed + 1)) {
      first.boot();
      second.boot();
      other.boot();
      RamBlock a = first.memory().blocks().get(0);
      RamBlock b = second.memory().blocks().get(0);
      RamBlock c = other.memory().blocks().get(0);
      long differentFromOther = 0;
      for (long page = 0; page < a.pageCount(); page++) {
        assertThat(a.samePage(page, b)).as("page %d, seed %d", page, seed).isTrue();
        differentFromOther += a.samePage(page, c) ? 0 : 1;
      }
      assertThat(differentFromOther).isPositive();
      assertThat(bits(first.pagesInUse(a))).isEqualTo(bits(second.pagesInUse(b)));
      assertThat(first.workDone()).isEqualTo(second.workDone());
    }
  }

  @ParameterizedTest
  @CsvSource({
    // workload, options, KiB of work to wait for: about 300 ms of a paced workload on 2 vCPUs,
    // 16 passes over hot-set's working set
    "idle, dirty-rate=1m, 256",
    "compile, '', 32768",
    "hot-set, '', 262144",
    "uniform, '', 16384",
    "sparse-writes, buffer=16m, 65536"
  })
  void everyPageTheWorkloadWritesIsMarkedDirtyAndNoOther(String name, String options, long kib)
      throws Exception {
    long seed = TestMemories.seed("WorkloadsTest dirty tracking " + name);
    try (SimulatedGuest guest = guest(name, WorkloadOptions.parse(options), MEMORY, 2, seed)) {
      GuestMemory memory = guest.memory();
      guest.boot();
      long booted = guest.workDone();
      guest.start();
      Await.until(() -> guest.workDone() > booted, "the vCPUs run " + name);
      guest.pause();
      GuestProbe.drainDirty(memory);
      byte[][] before = GuestProbe.snapshot(memory);
      long paused = guest.workDone();
      guest.resume();
      Await.until(
          () -> guest.workDone() - paused >= kib << 10, name + " wrote " + kib + " KiB more");
      guest.pause();
      PageBitmap[] dirty = GuestProbe.drainDirty(memory);
      PageBitmap[] changed = GuestProbe.changedPages(memory, before);
      assertThat(GuestProbe.cardinality(dirty)).isPositive();
      for (RamBlock block : memory.blocks()) {
        assertThat(bits(dirty[block.id()]))
            .as("dirty pages of %s, seed %d", block, seed)
            .isEqualTo(bits(changed[block.id()]));
      }
    }
  }

  @ParameterizedTest
  @CsvSource({
    // workload, options, expected bytes per second on 2 vCPUs
    "idle, '', 65536",
    "compile, '', 134217728",
    "uniform, '', 67108864",
    "uniform, dirty-rate=8m, 8388608",
    "hot-set, dirty-rate=32m, 33554432"
  })
  void pacedWorkloadsDirtyAtTheirDocumentedRate(String name, String options, long expected)
      throws Exception {
    long seed = TestMemories.seed("WorkloadsTest rate " + name + " " + options);
    try (SimulatedGuest guest = guest(name, WorkloadOptions.parse(options), MEMORY, 2, seed)) {
      guest.boot();
      long booted = guest.workDone();
      guest.start();
      // Each vCPU's pacer starts with a burst of 20 ms of work; past it, the vCPUs run paced.
      long burst = (long) (expected * (Pacer.MAX_BURST_NANOS / 1e9));
      Await.until(
          () -> guest.workDone() - booted > burst, name + " spent its pacers' start-up burst");
      double rate = measureRate(guest, 1000);
      System.out.printf("%s %s: %.0f bytes/s (expected %d)%n", name, options, rate, expected);
      // Loose bounds: a slow or loaded host may fall behind; slack of one batch per vCPU above.
      double slack = 2.0 * Vcpu.TEMPLATE_PAGES * GuestMemory.PAGE_SIZE;
      assertThat(rate).isBetween(0.25 * expected, 1.5 * expected + slack);
    }
  }

  @Test
  void hotSetRewritesItsWorkingSetAsFastAsItCan() throws Exception {
    try (SimulatedGuest guest = guest("hot-set", WorkloadOptions.defaults(), MEMORY, 2, 17)) {
      long workingSet = (long) (0.25 * MEMORY) / GuestMemory.PAGE_SIZE;
      guest.boot();
      long booted = guest.workDone();
      guest.start();
      Await.until(
          () -> guest.workDone() - booted >= workingSet * GuestMemory.PAGE_SIZE,
          "hot-set swept its working set once");
      double rate = measureRate(guest, 500);
      System.out.printf("hot-set: %.0f MiB/s%n", rate / (1 << 20));
      assertThat(rate).isGreaterThan(64.0 * (1 << 20));
      long inUse = guest.allocator().totalPages() - guest.allocator().freePages();
      assertThat(inUse).isBetween(workingSet, workingSet + guest.allocator().totalPages() / 5);
    }
  }

  @Test
  void theDefaultIdleBootLeavesTheKernelInUseAndOldDataInThreeQuartersOfFreeMemory() {
    try (SimulatedGuest guest = guest("idle", WorkloadOptions.defaults(), MEMORY, 2, 19)) {
      guest.boot();
      BuddyAllocator allocator = guest.allocator();
      RamBlock block = guest.memory().blocks().get(0);
      PageBitmap inUse = guest.pagesInUse(block);
      long staleFree = 0;
      for (long page = 0; page < block.pageCount(); page++) {
        if (!block.isZeroPage(page) && !inUse.get(page)) {
          staleFree++;
        }
      }
      long total = allocator.totalPages();
      long kernel = GuestBoot.kernelPages(total);
      assertThat(inUse.cardinality()).isEqualTo(kernel).isEqualTo(total - allocator.freePages());
      assertThat((double) staleFree / allocator.freePages())
          .isCloseTo(GuestBoot.USED_TOUCHED, offset(0.01));
    }
  }

  @Test
  void aFreshBootTouchesOnlyTheKernel() {
    try (SimulatedGuest guest =
        guest("idle", WorkloadOptions.parse("profile=fresh"), MEMORY, 2, 19)) {
      guest.boot();
      RamBlock block = guest.memory().blocks().get(0);
      PageBitmap inUse = guest.pagesInUse(block);
      for (long page = 0; page < block.pageCount(); page++) {
        if (!inUse.get(page)) {
          assertThat(block.isZeroPage(page)).as("free page %d", page).isTrue();
        }
      }
      assertThat(inUse.cardinality())
          .isEqualTo(GuestBoot.kernelPages(guest.allocator().totalPages()));
    }
  }

  @Test
  void compilePageCacheGrowsButStaysWithinItsCap() throws Exception {
    long seed = TestMemories.seed("WorkloadsTest page cache");
    CompileWorkload workload =
        (CompileWorkload)
            Workloads.create("compile", WorkloadOptions.parse("page-cache=5%,dirty-rate=512m"));
    try (SimulatedGuest guest =
        SimulatedGuest.builder()
            .memorySize(MEMORY)
            .vcpus(2)
            .seed(seed)
            .workload(workload)
            .build()) {
      guest.start();
      PageCache cache = workload.pageCache();
      long cap = cache.capPages();
      assertThat(cap).isEqualTo((long) (0.05 * MEMORY / GuestMemory.PAGE_SIZE));
      Await.until(
          () -> cache.pages() >= cap / 2,
          "the page cache reached half its cap of " + cap + " pages");
      // The cache has come to its cap and had to evict to stay within it: only now can the peak
      // show whether it ever went over.
      Await.until(() -> cache.capEvictions() > 0, "the page cache evicted at its cap");
      assertThat(cache.peakPages()).as("the most pages the cache held").isLessThanOrEqualTo(cap);
      assertThat(guest.failure()).isEmpty();
    }
  }

  @Test
  void aCompileWorkloadInstanceServesOneGuest() {
    Workload workload = Workloads.create("compile", WorkloadOptions.defaults());
    try (SimulatedGuest first =
            SimulatedGuest.builder().memorySize(MEMORY).vcpus(1).workload(workload).build();
        SimulatedGuest second =
            SimulatedGuest.builder().memorySize(MEMORY).vcpus(1).workload(workload).build()) {
      first.boot();
      assertThatThrownBy(second::boot).hasMessageContaining("serves one guest");
    }
  }

  private static double measureRate(SimulatedGuest guest, long millis) throws InterruptedException {
    long work = guest.workDone();
    long start = System.nanoTime();
    Thread.sleep(millis); // the measurement window itself, not a wait for an event
    long done = guest.workDone() - work;
    return done / ((System.nanoTime() - start) / 1e9);
  }

  private static String bits(PageBitmap bitmap) {
    StringBuilder text = new StringBuilder();
    for (long i = bitmap.nextSetBit(0); i >= 0; i = bitmap.nextSetBit(i + 1)) {
      text.append(i).append(' ');
    }
    return text.toString();
  }
}
