/**
 * JMH benchmarks of {@code PageBitmap} and {@code AtomicPageBitmap}, side by side with {@code
 * java.util.BitSet}, Lucene {@code FixedBitSet}, RoaringBitmap, an inline {@code long[]} loop (the
 * ceiling without abstraction) and a plain sweep over the same words (the memory limit).
 *
 * <p>Every benchmark reports {@code ns/op} ({@code Mode.AverageTime}), builds its content from the
 * seed in {@link io.github.precopy.bench.Content}, and names its map size {@code sizeBits} and its
 * contender {@code impl}. Each class's Javadoc gives its workload, its method and its command;
 * {@code bench/RESULTS.md} holds measured numbers and how they were taken.
 *
 * <p>Build, then prove that every benchmark runs (this measures nothing; {@code -jvmArgsAppend}
 * replaces the benchmarks' pre-touched heap so that a fork starts in a fraction of a second):
 *
 * <pre>{@code
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar -f 1 -wi 1 -w 100ms -i 1 -r 100ms \
 *     -p sizeBits=2097152 -jvmArgsAppend -Xmx1g
 * }</pre>
 *
 * <p>{@link io.github.precopy.bench.FrameCompressionBenchmark} measures the candidate libraries of
 * the {@code compression} plugin's frame codecs on 64-page frames ({@link
 * io.github.precopy.bench.FramePages}) in {@code µs/op}; its {@code main} prints their ratios.
 *
 * <p>{@code ContendersAgreeTest} checks that every contender returns the same answer, so a fast
 * score never comes from a wrong one.
 *
 * <p>Four tools that are not JMH benchmarks run with {@code java -cp bench/target/benchmarks.jar
 * CLASS}, and {@code --help} lists their options: {@link
 * io.github.precopy.bench.LoopbackThroughput} (a migration between two JVMs over loopback), {@link
 * io.github.precopy.bench.FreePageHintReproduction} (the published free-page-hint experiment),
 * {@link io.github.precopy.bench.DowntimeMatrix} (whether the downtime limit is kept) and {@link
 * io.github.precopy.bench.AutoConvergeComparison} (a guest that outpaces its link, without and with
 * auto-converge). They use the engine's public API only.
 *
 * <p>{@link io.github.precopy.bench.GuestFidelity} runs simulated guest scenarios without and with
 * {@code free-page-hint} and prints their figures next to real QEMU's with a real Linux guest
 * ({@code ../shared/reference/qemu-fph-anchor.md}, embedded in {@link
 * io.github.precopy.bench.FidelityReference}), and with {@code --qemu} next to the QEMU harness run
 * in the same invocation.
 */
package io.github.precopy.bench;
