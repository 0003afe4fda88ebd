package io.github.precopy.xbzrle;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The figures of QEMU's {@code xbzrle_counters} and its per-period rates ({@code
 * migration_update_rates} in {@code migration/ram.c}), counted by the encoder on the migration
 * thread and read from any thread: every method is synchronized, so a {@link #snapshot()} is
 * consistent.
 */
final class XbzrleCounters {

  /** What QEMU's stream adds to an encoded page and counts in {@code bytes}: flag and length. */
  static final int HEADER_BYTES = 1 + 2;

  private final long cacheSize;
  private long bytes;
  private long pages;
  private long cacheMiss;
  private long overflow;
  private long zeroPages;
  private double cacheMissRate;
  private double encodingRate;
  private long bytesBefore;
  private long pagesBefore;
  private long cacheMissBefore;
  private long zeroPagesBefore;

  XbzrleCounters(long cacheSize) {
    this.cacheSize = cacheSize;
  }

  /** A page that was not in the cache. */
  synchronized void miss() {
    cacheMiss++;
  }

  /** A cached page that had not changed. */
  synchronized void unchanged() {
    pages++;
  }

  /** A cached page whose encoding did not fit: QEMU counts a whole page of bytes. */
  synchronized void overflow() {
    pages++;
    overflow++;
    bytes += XbzrleEncoding.PAGE_SIZE;
  }

  /** A cached page sent as an encoding of {@code length} bytes. */
  synchronized void encoded(int length) {
    pages++;
    bytes += length + HEADER_BYTES;
  }

  /** A page sent as a zero record. */
  synchronized void zeroPage() {
    zeroPages++;
  }

  /**
   * Closes a dirty-rate period: {@code cache-miss-rate} becomes the period's misses over the pages
   * the encoder heard of in it (looked up or sent as zeros), {@code encoding-rate} the bytes of the
   * cached pages of the period over the bytes counted for them (0 if none). A period in which the
   * encoder heard of no page leaves both as they were, as QEMU leaves them after a period without
   * pages.
   */
  synchronized void endPeriod() {
    long misses = cacheMiss - cacheMissBefore;
    long hits = pages - pagesBefore;
    long heard = misses + hits + zeroPages - zeroPagesBefore;
    if (heard == 0) {
      return;
    }
    long encodedBytes = bytes - bytesBefore;
    cacheMissRate = (double) misses / heard;
    encodingRate =
        hits == 0 || encodedBytes == 0
            ? 0
            : (double) hits * XbzrleEncoding.PAGE_SIZE / encodedBytes;
    cacheMissBefore = cacheMiss;
    pagesBefore = pages;
    bytesBefore = bytes;
    zeroPagesBefore = zeroPages;
  }

  /** QEMU's {@code query-migrate} {@code xbzrle-cache} figures, in its order and with its names. */
  synchronized Map<String, Object> snapshot() {
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
}
