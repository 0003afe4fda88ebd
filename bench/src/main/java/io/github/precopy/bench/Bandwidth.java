package io.github.precopy.bench;

import io.github.precopy.core.MigrationConfig;
import io.github.precopy.sim.Units;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A bandwidth limit option: a rate as {@link Units#parseRate} reads it ({@code 200m}, {@code
 * 1g/s}), at least {@link MigrationConfig#MIN_BANDWIDTH}.
 */
final class Bandwidth implements ITypeConverter<Long> {

  @Override
  public Long convert(String text) {
    long bytesPerSecond;
    try {
      bytesPerSecond = Units.parseRate(text);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
    if (bytesPerSecond < MigrationConfig.MIN_BANDWIDTH) {
      throw new TypeConversionException(
          "'"
              + text
              + "' is below the lowest bandwidth limit, "
              + Units.formatSize(MigrationConfig.MIN_BANDWIDTH)
              + " per second");
    }
    return bytesPerSecond;
  }
}
