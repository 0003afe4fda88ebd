package io.github.precopy.bench;

import io.github.precopy.sim.Units;
import java.time.Duration;
import java.util.function.Function;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** The bench tools' duration options, read by {@link Units} as every duration of the project. */
final class Durations {

  private Durations() {}

  /** A positive duration with a unit, e.g. {@code 120s} or {@code 2m}. */
  static final class Timeout implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String text) {
      return positive(text, Units::parseDuration);
    }
  }

  /**
   * A positive downtime limit: a duration with a unit, or a bare number of milliseconds as {@code
   * precopy migrate --downtime-limit} takes it.
   */
  static final class DowntimeLimit implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String text) {
      return positive(text, Units::parseDurationOrMillis);
    }
  }

  private static Duration positive(String text, Function<String, Duration> parse) {
    Duration duration;
    try {
      duration = parse.apply(text);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
    if (duration.isZero()) {
      throw new TypeConversionException("'" + text + "' is not a positive duration");
    }
    return duration;
  }
}
