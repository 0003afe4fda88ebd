package io.github.precopy.core.memory;

import io.github.precopy.spi.WriteTrackingProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The ways a migration can learn which pages the guest wrote (★ {@code --dirty-tracking}):
 *
 * <ul>
 *   <li>{@value #SOFTWARE} (the default): every write goes through {@link GuestMemory}, which marks
 *       the page in the block's dirty log. Works everywhere, but sees nothing written any other
 *       way.
 *   <li>{@value #KERNEL}: the kernel watches the memory ({@code userfaultfd} asynchronous
 *       write-protect with {@code PAGEMAP_SCAN}, Linux 6.7+), so writes by any code are seen: a
 *       {@code ByteBuffer}, a {@code MemorySegment}, native code. Needs JDK 22 or later and {@code
 *       precopy-kernel} on the class path. While it tracks a memory, writes through {@link
 *       GuestMemory} are plain stores that leave the software log alone.
 *   <li>any other {@link WriteTrackingProvider} found by {@link ServiceLoader}, by its name.
 * </ul>
 *
 * Thread-safe; providers are looked up through the context class loader on every call.
 */
public final class DirtyTracking {

  /** The software dirty log of {@link GuestMemory}. */
  public static final String SOFTWARE = "software";

  /** The kernel's tracking: {@code userfaultfd} write-protect and {@code PAGEMAP_SCAN}. */
  public static final String KERNEL = "kernel";

  /** The first JDK with the final foreign function API, which kernel tracking calls. */
  private static final int KERNEL_MIN_JDK = 22;

  private DirtyTracking() {}

  /** The names that can be asked for here: {@value #SOFTWARE} and every provider found. */
  public static List<String> names() {
    List<String> names = new ArrayList<>();
    names.add(SOFTWARE);
    if (Runtime.version().feature() >= KERNEL_MIN_JDK) {
      for (WriteTrackingProvider provider : ServiceLoader.load(WriteTrackingProvider.class)) {
        names.add(provider.name());
      }
    }
    return names;
  }

  /**
   * Why tracking {@code name} cannot work in this process, in one line that names what is missing,
   * or empty when it can.
   */
  public static Optional<String> unavailableReason(String name) {
    if (SOFTWARE.equals(name)) {
      return Optional.empty();
    }
    try {
      return provider(name).unavailableReason();
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      return Optional.of(e.getMessage());
    }
  }

  /**
   * The provider of {@code name}, usable here.
   *
   * @throws IllegalArgumentException if no tracking has that name
   * @throws UnsupportedOperationException if it cannot work here (the message says why)
   */
  static WriteTrackingProvider provider(String name) {
    if (KERNEL.equals(name) && Runtime.version().feature() < KERNEL_MIN_JDK) {
      throw new UnsupportedOperationException(
          "kernel dirty tracking needs JDK "
              + KERNEL_MIN_JDK
              + " or later (the foreign function API); this is JDK "
              + Runtime.version().feature());
    }
    for (WriteTrackingProvider provider : ServiceLoader.load(WriteTrackingProvider.class)) {
      if (provider.name().equals(name)) {
        Optional<String> reason = provider.unavailableReason();
        if (reason.isPresent()) {
          throw new UnsupportedOperationException(reason.get());
        }
        return provider;
      }
    }
    if (KERNEL.equals(name)) {
      throw new UnsupportedOperationException(
          "kernel dirty tracking needs precopy-kernel on the class path");
    }
    throw new IllegalArgumentException(
        "unknown dirty tracking '" + name + "'; available: " + String.join(", ", names()));
  }
}
