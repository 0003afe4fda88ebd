/**
 * Kernel dirty tracking, the write-tracking provider {@code kernel} ({@link
 * io.github.precopy.kernel.KernelWriteTracking}): Linux's userfaultfd in asynchronous write-protect
 * mode marks the pages written, and the {@code PAGEMAP_SCAN} ioctl reads and re-protects them, both
 * called through the JDK's foreign function API (JDK 22+, Linux 6.7+). Depends on the SPI alone.
 */
package io.github.precopy.kernel;
