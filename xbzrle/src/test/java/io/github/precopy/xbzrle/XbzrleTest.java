package io.github.precopy.xbzrle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.spi.FreePageSink;
import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.OptimizationContext;
import io.github.precopy.spi.PageCodec;
import io.github.precopy.spi.PageEncoder;
import io.github.precopy.spi.PrecopyPhase;
import io.github.precopy.spi.RamRegion;
import io.github.precopy.spi.SyncPeriod;
import io.github.precopy.spi.testing.FakeOptimizationContext;
import io.github.precopy.spi.testing.RecordingFreePageSink;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * The plugin's encoder keeps what the destination holds, as QEMU's save_xbzrle_page, and counts.
 */
final class XbzrleTest {

  private static final int PAGE = 4096;
  private static final HexFormat HEX = HexFormat.ofDelimiter(" ");

  private final List<RamRegion> regions =
      List.of(new RamRegion("pc.ram", 0, 16 * PAGE), new RamRegion("vga.vram", 1 << 30, 4 * PAGE));
  private final ByteBuffer out = ByteBuffer.allocate(PAGE);

  private MigrationOptimization optimization(String cacheSize) {
    OptimizationContext context =
        new Options(
            new FakeOptimizationContext(regions, new RecordingFreePageSink(), null),
            cacheSize == null ? Map.of() : Map.of("xbzrle-cache-size", cacheSize));
    MigrationOptimization optimization = new XbzrleProvider().create(context);
    syncs(optimization, 1);
    optimization.onPhase(PrecopyPhase.SETUP);
    return optimization;
  }

  private static void syncs(MigrationOptimization optimization, int count) {
    for (int i = 0; i < count; i++) {
      optimization.onPhase(PrecopyPhase.BEFORE_BITMAP_SYNC);
      optimization.onPhase(PrecopyPhase.AFTER_BITMAP_SYNC);
    }
  }

  private int encode(PageEncoder encoder, int block, long page, byte[] data) {
    out.clear();
    return encoder.encode(block, page, data, 0, out);
  }

  private String written() {
    return HEX.formatHex(out.array(), 0, out.position());
  }

  @Test
  void theServiceLoaderFindsTheCapabilityAndItsCodec() {
    MigrationOptimizationProvider provider =
        ServiceLoader.load(MigrationOptimizationProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(p -> p.capability().equals("xbzrle"))
            .findFirst()
            .orElseThrow();

    PageCodec codec = provider.pageCodec();
    assertThat(codec).isNotNull();
    assertThat(codec.maxEncodedBytes()).isEqualTo(4095);
    assertThat(codec.decoder()).isNotNull();
  }

  @Test
  void aPageIsSentWholeFirstThenAsTheDeltaTheDecoderApplies() {
    PageEncoder encoder = optimization(null).pageEncoder();
    byte[] data = XbzrleEncodingTest.randomPage(new Random(7));

    assertThat(encode(encoder, 0, 3, data)).isEqualTo(-1);
    assertThat(out.position()).isZero();
    byte[] destination = data.clone();

    assertThat(encode(encoder, 0, 3, data)).isZero();
    assertThat(out.position()).isZero();

    byte[] next = data.clone();
    next[100] ^= 0x11;
    next[101] ^= 0x22;
    assertThat(encode(encoder, 0, 3, next)).isEqualTo(4);
    assertThat(written()).isEqualTo("64 02 " + HEX.formatHex(next, 100, 102));

    new XbzrleProvider().pageCodec().decoder().decode(out.flip(), destination, 0);
    assertThat(destination).isEqualTo(next);
    assertThat(encode(encoder, 0, 3, next)).isZero();
  }

  @Test
  void aPageSentAsZerosIsCachedAsZeros() {
    PageEncoder encoder = optimization(null).pageEncoder();
    byte[] data = XbzrleEncodingTest.randomPage(new Random(8));
    encode(encoder, 1, 2, data);

    encoder.zeroSent(1, 2);
    assertThat(encode(encoder, 1, 2, new byte[PAGE])).isZero();

    byte[] one = new byte[PAGE];
    one[4000] = 9;
    assertThat(encode(encoder, 1, 2, one)).isEqualTo(4);
    assertThat(written()).isEqualTo("a0 1f 01 09");

    encoder.zeroSent(1, 3);
    assertThat(encode(encoder, 1, 3, one)).isEqualTo(4);
  }

  @Test
  void anOverflowSendsThePageWholeAndCachesIt() {
    PageEncoder encoder = optimization(null).pageEncoder();
    byte[] data = new byte[PAGE];
    encode(encoder, 0, 0, data);

    byte[] everywhere = new byte[PAGE];
    Arrays.fill(everywhere, (byte) 1);
    assertThat(encode(encoder, 0, 0, everywhere)).isEqualTo(-1);
    assertThat(out.position()).isZero();
    assertThat(encode(encoder, 0, 0, everywhere)).isZero();
  }

  @Test
  void aSlotIsTakenOverOnlyFromAPageUnusedForTwoSyncs() {
    MigrationOptimization optimization = optimization("8k");
    PageEncoder encoder = optimization.pageEncoder();
    byte[] data = XbzrleEncodingTest.randomPage(new Random(9));

    // Two slots: pages 0 and 2 of pc.ram and page 0 of vga.vram (page 16 of the layout) share one.
    assertThat(encode(encoder, 0, 0, data)).isEqualTo(-1);
    assertThat(encode(encoder, 0, 2, data)).isEqualTo(-1);
    assertThat(encode(encoder, 1, 0, data)).isEqualTo(-1);
    assertThat(encode(encoder, 0, 0, data)).as("still cached").isZero();
    assertThat(encode(encoder, 0, 1, data)).as("the other slot").isEqualTo(-1);
    assertThat(encode(encoder, 0, 1, data)).isZero();

    syncs(optimization, 1);
    assertThat(encode(encoder, 0, 2, data)).as("page 0 was used a sync ago").isEqualTo(-1);
    assertThat(encode(encoder, 0, 2, data)).isEqualTo(-1);

    syncs(optimization, 1);
    assertThat(encode(encoder, 1, 0, data)).as("evicts page 0").isEqualTo(-1);
    assertThat(encode(encoder, 1, 0, data)).isZero();
    assertThat(encode(encoder, 0, 0, data)).isEqualTo(-1);
    assertThat(encode(encoder, 0, 1, data)).as("page 1 keeps its slot").isZero();

    assertThat(optimization.statistics())
        .containsEntry("cache-size", 8192L)
        .containsEntry("cache-miss", 8L)
        .containsEntry("pages", 4L);
  }

  @Test
  void statisticsCountAsQemuAndTheirRatesAreThoseOfTheLastPeriod() {
    MigrationOptimization optimization = optimization(null);
    PageEncoder encoder = optimization.pageEncoder();
    byte[] data = XbzrleEncodingTest.randomPage(new Random(10));

    encode(encoder, 0, 1, data); // miss
    encode(encoder, 0, 1, data); // unchanged
    data[100] ^= 1;
    assertThat(encode(encoder, 0, 1, data)).isEqualTo(3);
    byte[] flipped = data.clone();
    for (int i = 0; i < PAGE; i++) {
      flipped[i] ^= (byte) 0xff;
    }
    assertThat(encode(encoder, 0, 1, flipped)).isEqualTo(-1); // overflow
    encode(encoder, 0, 1, flipped); // unchanged
    encoder.zeroSent(0, 2);
    encode(encoder, 0, 2, new byte[PAGE]); // unchanged

    assertThat(optimization.statistics())
        .containsExactlyEntriesOf(statistics(67108864L, 3 + 3 + 4096, 5, 1, 0.0, 0.0, 1));

    optimization.onSyncPeriod(new SyncPeriod(2, 1000, 0, 0, 0));
    Map<String, Object> first = statistics(67108864L, 4102, 5, 1, 1 / 7.0, 5 * 4096 / 4102.0, 1);
    assertThat(optimization.statistics()).containsExactlyEntriesOf(first);

    optimization.onSyncPeriod(new SyncPeriod(3, 1000, 0, 0, 0));
    assertThat(optimization.statistics()).as("a period without pages").isEqualTo(first);

    encode(encoder, 0, 5, data);
    optimization.onSyncPeriod(new SyncPeriod(4, 1000, 0, 0, 0));
    assertThat(optimization.statistics())
        .containsExactlyEntriesOf(statistics(67108864L, 4102, 5, 2, 1.0, 0.0, 1));
  }

  private static Map<String, Object> statistics(
      long cacheSize,
      long bytes,
      long pages,
      long cacheMiss,
      double cacheMissRate,
      double encodingRate,
      long overflow) {
    Map<String, Object> statistics = new LinkedHashMap<>();
    statistics.put("cache-size", cacheSize);
    statistics.put("bytes", bytes);
    statistics.put("pages", pages);
    statistics.put("cache-miss", cacheMiss);
    statistics.put("cache-miss-rate", cacheMissRate);
    statistics.put("encoding-rate", encodingRate);
    statistics.put("overflow", overflow);
    return statistics;
  }

  /** A fake context with options. */
  private record Options(OptimizationContext context, Map<String, String> options)
      implements OptimizationContext {
    @Override
    public List<RamRegion> ramRegions() {
      return context.ramRegions();
    }

    @Override
    public int pageSize() {
      return context.pageSize();
    }

    @Override
    public boolean guestRunning() {
      return context.guestRunning();
    }

    @Override
    public <T> Optional<T> device(Class<T> type) {
      return context.device(type);
    }

    @Override
    public FreePageSink freePageSink() {
      return context.freePageSink();
    }
  }

  @Test
  void aBlockOutsideTheLayoutIsRefusedAndAClosedEncoderEncodesNoMore() {
    MigrationOptimization optimization = optimization(null);
    PageEncoder encoder = optimization.pageEncoder();
    assertThatThrownBy(() -> encode(encoder, 2, 0, new byte[PAGE]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("block 2 is not among the 2 RAM blocks");

    optimization.close();
    assertThatThrownBy(() -> encode(encoder, 0, 0, new byte[PAGE]))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theCacheSizeIsCheckedUpFront() {
    XbzrleProvider provider = new XbzrleProvider();
    assertThatThrownBy(() -> provider.validate(Map.of("xbzrle-cache-size", "100k")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "xbzrle-cache-size 102400 is not a power of two no less than the page size 4096");
    provider.validate(Map.of("xbzrle-cache-size", "64m", "cpu-throttle-initial", "x"));
  }
}
