package io.github.precopy.examples.cli;

import io.github.precopy.sim.Units;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Durations on the command line, read by {@link Units}: a number with a unit {@code ms}, {@code s},
 * {@code m} or {@code h}. Timeouts take 1 ms to 24 h; {@code --downtime-limit} also takes a bare
 * number as milliseconds (QEMU's unit) and leaves its range to the library.
 */
final class Durations {

  /** The longest timeout accepted; socket timeouts take at most 2^31 - 1 ms (24.8 days). */
  private static final Duration MAX = Duration.ofHours(24);

  private Durations() {}

  /**
   * Parses a timeout: a duration with a unit, from 1 ms to 24 h.
   *
   * @throws IllegalArgumentException naming the accepted forms if {@code text} is not one
   */
  static Duration parse(String text) {
    Duration duration = Units.parseDuration(text);
    if (duration.isZero() || duration.compareTo(MAX) > 0) {
      throw new IllegalArgumentException("'" + text + "' is not a duration from 1ms to 24h");
    }
    return duration;
  }

  /** {@code duration} as "60 s" when whole seconds, else as "1500 ms". */
  static String describe(Duration duration) {
    long millis = duration.toMillis();
    return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
  }

  /** The picocli converter for timeouts: {@link #parse}. */
  static final class Converter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /**
   * The picocli converter for {@code --downtime-limit}: {@link Units#parseDurationOrMillis}, a
   * duration with a unit or a bare number of milliseconds.
   */
  static final class DowntimeConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return Units.parseDurationOrMillis(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
