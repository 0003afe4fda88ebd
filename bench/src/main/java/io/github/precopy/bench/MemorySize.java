package io.github.precopy.bench;

import io.github.precopy.core.memory.GuestMemory;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A guest memory size option: a whole number of bytes with an optional binary suffix {@code k},
 * {@code m}, {@code g} or {@code t} ({@code 64m} is 64 MiB), a positive multiple of the 4 KiB page.
 */
final class MemorySize implements ITypeConverter<Long> {

  private static final Pattern SIZE = Pattern.compile("(\\d+)([kmgt]?)");
  private static final String SUFFIXES = "kmgt";

  @Override
  public Long convert(String text) {
    Matcher matcher = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
    long bytes = -1;
    if (matcher.matches()) {
      String suffix = matcher.group(2);
      int shift = suffix.isEmpty() ? 0 : 10 * (SUFFIXES.indexOf(suffix) + 1);
      try {
        long value = Long.parseLong(matcher.group(1));
        bytes = value << shift;
        if (bytes >>> shift != value) {
          bytes = -1;
        }
      } catch (NumberFormatException e) {
        bytes = -1;
      }
    }
    if (bytes <= 0 || bytes % GuestMemory.PAGE_SIZE != 0) {
      throw new TypeConversionException(
          "'"
              + text
              + "' is not a memory size: write a positive multiple of 4k, in bytes or with a"
              + " binary k, m, g or t suffix, e.g. 64m or 2g");
    }
    return bytes;
  }
}
