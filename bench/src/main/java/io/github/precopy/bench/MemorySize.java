package io.github.precopy.bench;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.sim.Units;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A guest memory size option: a size as {@link Units#parseSize} reads it (the rules of every size
 * option of the project: {@code 64m}, {@code 1.5g}, {@code 2t}), a positive multiple of the 4 KiB
 * page.
 */
final class MemorySize implements ITypeConverter<Long> {

  @Override
  public Long convert(String text) {
    long bytes;
    try {
      bytes = Units.parseSize(text);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(
          "'"
              + text
              + "' is not a memory size: write a positive multiple of 4k, "
              + Units.SIZE_FORM);
    }
    if (bytes <= 0 || bytes % GuestMemory.PAGE_SIZE != 0) {
      throw new TypeConversionException(
          "'" + text + "' is not a memory size: write a positive multiple of 4k, e.g. 64m or 2g");
    }
    return bytes;
  }
}
