package io.github.precopy.compression;

import io.github.precopy.spi.FrameCodec;
import io.github.precopy.spi.MigrationOptimization;
import io.github.precopy.spi.MigrationOptimizationProvider;
import io.github.precopy.spi.OptimizationContext;
import java.util.List;
import java.util.Map;

/**
 * The {@code compression} capability: contributes QEMU's multifd compression methods as {@link
 * FrameCodec}s named {@code zlib}, {@code zstd} and {@code lz4}, which the engine applies to every
 * frame of every channel when the parameter {@value #METHOD} names one ({@code none}, the default,
 * sends frames as they are).
 *
 * <p>Parameters, among the migration's options, with QEMU's names, defaults and ranges: {@value
 * #METHOD} ({@code none}, {@code zlib}, {@code zstd} or {@code lz4}), {@value #ZLIB_LEVEL} (0 to 9,
 * default 1) and {@value #ZSTD_LEVEL} (0 to 20, default 1). {@code lz4} has no level.
 *
 * <p>As in QEMU, compression is selected by {@value #METHOD}, not by enabling a capability: the
 * engine asks every provider on the class path for its frame codecs whether or not its capability
 * is enabled. Enabling {@code compression} only has {@link #validate} check these parameters before
 * the migration starts; the optimisation {@link #create} returns does nothing and reports nothing.
 *
 * <p>Found by {@link java.util.ServiceLoader}; stateless and thread-safe, as are its codecs.
 */
public final class CompressionProvider implements MigrationOptimizationProvider {

  /** The capability name. */
  public static final String CAPABILITY = "compression";

  /**
   * The parameter that selects the codec: {@code none}, {@code zlib}, {@code zstd} or {@code lz4}.
   */
  public static final String METHOD = CompressionParameters.METHOD;

  /** The parameter that sets zlib's level, 0 (stored) to 9; default 1. */
  public static final String ZLIB_LEVEL = CompressionParameters.ZLIB_LEVEL;

  /** The parameter that sets zstd's level, 0 (zstd's default, 3) to 20; default 1. */
  public static final String ZSTD_LEVEL = CompressionParameters.ZSTD_LEVEL;

  private static final List<FrameCodec> CODECS =
      List.of(new ZlibCodec(), new ZstdCodec(), new Lz4Codec());

  /** For {@link java.util.ServiceLoader}. */
  public CompressionProvider() {}

  @Override
  public String capability() {
    return CAPABILITY;
  }

  /**
   * Checks {@value #METHOD} (when present) and the two levels among {@code options}.
   *
   * @throws IllegalArgumentException naming the parameter and its valid values
   */
  @Override
  public void validate(Map<String, String> options) {
    CompressionParameters.validate(options);
  }

  /** An optimisation without behaviour: compression happens through {@link #frameCodecs()}. */
  @Override
  public MigrationOptimization create(OptimizationContext context) {
    CompressionParameters.validate(context.options());
    return phase -> {};
  }

  /** {@code zlib}, {@code zstd} and {@code lz4}, in that order. */
  @Override
  public List<FrameCodec> frameCodecs() {
    return CODECS;
  }
}
