/**
 * What the Linux kernel offers precopy, called through the JDK's foreign function API (JDK 22+):
 * kernel dirty tracking, the write-tracking provider {@code kernel} ({@link
 * io.github.precopy.kernel.KernelWriteTracking}: userfaultfd in asynchronous write-protect mode
 * marks the pages written, the {@code PAGEMAP_SCAN} ioctl reads and re-protects them, Linux 6.7+),
 * and guest RAM on transparent huge pages ({@link io.github.precopy.kernel.KernelHugePageMemory}).
 * Depends on the SPI alone.
 */
package io.github.precopy.kernel;
