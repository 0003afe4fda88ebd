package io.github.precopy.bench;

import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A row of {@link QemuSideBySide} (issue #15): what both sides migrate and where, and the QEMU
 * anchor harness's case and sink for it.
 */
enum SideBySideRow {
  /** Data pages into preallocated destination RAM over loopback TCP. */
  PREALLOC(
      "prealloc",
      "data pages into preallocated destination RAM, loopback TCP",
      "random",
      "tcp-pre",
      true),
  /** Data pages into cold (never touched) destination RAM over loopback TCP. */
  COLD("cold", "data pages into cold destination RAM, loopback TCP", "random", "tcp", true),
  /** Data pages to a TCP sink that discards the stream (socat to /dev/null). */
  NULL_SINK("null-sink", "data pages to a null TCP sink (socat)", "random", "tcp-null", true),
  /** Zero pages that are resident (every page was written with zeros), scanned and sent. */
  ZERO_RESIDENT(
      "zero-resident",
      "zero pages scanned, resident (written with zeros)",
      "zero-touched",
      "exec",
      false),
  /** Zero pages of a guest never touched. */
  ZERO_UNTOUCHED(
      "zero-untouched", "zero pages scanned, never touched", "zero-fresh", "exec", false),
  /** Data pages into preallocated destination RAM over mutual TLS on loopback. */
  TLS(
      "tls",
      "mutual TLS, data pages into preallocated destination RAM",
      "random",
      "tcp-pre-tls",
      true);

  private final String option;
  private final String description;
  private final String qemuCase;
  private final String qemuSink;
  private final boolean dataPages;

  SideBySideRow(
      String option, String description, String qemuCase, String qemuSink, boolean dataPages) {
    this.option = option;
    this.description = description;
    this.qemuCase = qemuCase;
    this.qemuSink = qemuSink;
    this.dataPages = dataPages;
  }

  /** What the row migrates, for the table. */
  String description() {
    return description;
  }

  /** The anchor harness's case ({@code bench.py --cases}). */
  String qemuCase() {
    return qemuCase;
  }

  /**
   * The anchor harness's sink ({@code bench.py --sinks}); {@code tcp-pre-tls} is {@code
   * bench/qemu/tls_bench.py}'s.
   */
  String qemuSink() {
    return qemuSink;
  }

  /** Whether every page holds random bytes (else every page is zero). */
  boolean dataPages() {
    return dataPages;
  }

  /** The option value, e.g. {@code null-sink}. */
  @Override
  public String toString() {
    return option;
  }

  /** Every option value, comma separated. */
  static String choices() {
    return Arrays.stream(values()).map(SideBySideRow::toString).collect(Collectors.joining(", "));
  }

  /** Reads {@code --rows} values. */
  static final class Converter implements ITypeConverter<SideBySideRow> {
    @Override
    public SideBySideRow convert(String text) {
      for (SideBySideRow row : values()) {
        if (row.option.equals(text.strip().toLowerCase(Locale.ROOT))) {
          return row;
        }
      }
      throw new TypeConversionException("'" + text + "' is not a row; rows: " + choices());
    }
  }

  /** The option values, for the usage. */
  static final class Candidates implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(values()).map(SideBySideRow::toString).iterator();
    }
  }
}
