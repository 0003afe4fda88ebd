/**
 * Page bitmaps for precopy migration, one bit per page, modelled on QEMU's {@code
 * include/qemu/bitmap.h} and the migration dirty log.
 *
 * <ul>
 *   <li>{@link io.github.precopy.bitmap.PageBitmap}: the single-writer migration bitmap (QEMU
 *       {@code RAMBlock.bmap}) with offset counting, range operations that report what they
 *       changed, and set-bit scans.
 *   <li>{@link io.github.precopy.bitmap.AtomicPageBitmap}: the lock-free dirty log that guest
 *       writers mark and the migration thread drains into a {@link
 *       io.github.precopy.bitmap.PageBitmap} (QEMU {@code cpu_physical_memory_sync_dirty_bitmap}).
 * </ul>
 *
 * <p>Indices and sizes are in bits (pages). Ranges are half-open, {@code [from, to)}. This package
 * has no dependencies.
 */
package io.github.precopy.bitmap;
