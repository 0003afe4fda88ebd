package io.github.precopy.examples.cli;

import io.github.precopy.sim.Units;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Sizes and rates on the command line, read by {@link Units} (the rules every option and workload
 * option shares), and their human-readable form.
 */
final class Sizes {

  private Sizes() {}

  /** {@code bytes} in the largest binary unit that keeps the number at least 1, e.g. "1.50 GiB". */
  static String format(long bytes) {
    return Units.formatBytes(bytes);
  }

  /** The picocli converter for size options: {@link Units#parseSize}. */
  static final class Converter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return Units.parseSize(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** The picocli converter for rate options (bytes per second): {@link Units#parseRate}. */
  static final class RateConverter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return Units.parseRate(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
