package io.github.precopy.compression;

import java.util.Map;

/** The migration parameters this plugin reads, with QEMU's names, defaults and ranges. */
final class CompressionParameters {

  static final String METHOD = "multifd-compression";
  static final String ZLIB_LEVEL = "multifd-zlib-level";
  static final String ZSTD_LEVEL = "multifd-zstd-level";

  /** The values {@value #METHOD} accepts; {@code none} sends frames as they are. */
  static final String[] METHODS = {"none", "zlib", "zstd", "lz4"};

  static final int DEFAULT_LEVEL = 1;
  static final int MAX_ZLIB_LEVEL = 9;
  static final int MAX_ZSTD_LEVEL = 20;

  private CompressionParameters() {}

  /** Checks {@value #METHOD} (when present) and both levels among {@code options}. */
  static void validate(Map<String, String> options) {
    String method = options.get(METHOD);
    if (method != null && !java.util.Arrays.asList(METHODS).contains(method)) {
      throw new IllegalArgumentException(
          METHOD + " must be one of none, zlib, zstd, lz4: '" + method + "'");
    }
    zlibLevel(options);
    zstdLevel(options);
  }

  static int zlibLevel(Map<String, String> options) {
    return level(options, ZLIB_LEVEL, MAX_ZLIB_LEVEL);
  }

  static int zstdLevel(Map<String, String> options) {
    return level(options, ZSTD_LEVEL, MAX_ZSTD_LEVEL);
  }

  private static int level(Map<String, String> options, String name, int max) {
    String value = options.get(name);
    if (value == null) {
      return DEFAULT_LEVEL;
    }
    int level;
    try {
      level = Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          name + " must be an integer from 0 to " + max + ": '" + value + "'", e);
    }
    if (level < 0 || level > max) {
      throw new IllegalArgumentException(name + " must be from 0 to " + max + ": " + level);
    }
    return level;
  }
}
