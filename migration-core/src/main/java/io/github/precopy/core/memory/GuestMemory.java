package io.github.precopy.core.memory;

import io.github.precopy.spi.HugePageMemoryProvider;
import io.github.precopy.spi.WriteTracker;
import io.github.precopy.spi.WriteTrackingProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * The guest's RAM: one or more {@link RamBlock}s backed by real off-heap memory, and the way guest
 * code writes it, so that every write marks its pages in the block's dirty log. With {@linkplain
 * DirtyTracking#KERNEL kernel tracking} the kernel sees the writes instead, so memory written by
 * any code can be migrated, including {@linkplain Builder#applicationBlock memory the application
 * maps itself}.
 *
 * <p>Storage is memory-mapped: anonymous blocks map a deleted file on {@code /dev/shm} (QEMU's
 * {@code memory-backend-memfd}; falls back to {@code java.io.tmpdir}), file-backed blocks map a
 * file of the caller's choosing ({@code memory-backend-file}), application blocks are the caller's
 * own direct buffers. Mapped memory does not count against the Java heap or {@code
 * -XX:MaxDirectMemorySize}, so guests of many GiB work.
 *
 * <p>Thread-safety: any number of threads may read and write concurrently; each write marks its
 * pages dirty after the bytes are stored, so a dirty-log sync that sees the mark also sees the
 * data. {@link #close()} unmaps the memory and must not race with any other call.
 */
public final class GuestMemory implements AutoCloseable {

  /** Page size in bytes. */
  public static final int PAGE_SIZE = 4096;

  /** log2 of {@link #PAGE_SIZE}. */
  public static final int PAGE_SHIFT = 12;

  private final Mappings mappings;
  private final List<HugePageMemoryProvider.Mapping> hugePageMappings;
  private final List<RamBlock> blocks;
  private final RamBlock[] byAddress;
  private volatile boolean closed;
  private DirtyTracker tracker;

  private GuestMemory(
      List<RamBlock> blocks,
      Mappings mappings,
      List<HugePageMemoryProvider.Mapping> hugePageMappings) {
    this.mappings = mappings;
    this.hugePageMappings = List.copyOf(hugePageMappings);
    this.blocks = List.copyOf(blocks);
    this.byAddress = blocks.toArray(new RamBlock[0]);
    Arrays.sort(byAddress, Comparator.comparingLong(RamBlock::guestAddress));
  }

  /** A guest with a single anonymous block {@code pc.ram} of {@code sizeBytes} at address 0. */
  public static GuestMemory anonymous(long sizeBytes) {
    return builder().anonymousBlock("pc.ram", 0, sizeBytes).build();
  }

  /** A builder for a guest with several blocks. */
  public static Builder builder() {
    return new Builder();
  }

  /** The blocks in the order they were added; a block's index is its {@link RamBlock#id()}. */
  public List<RamBlock> blocks() {
    return blocks;
  }

  /** The block named {@code name}, or null if there is none. */
  public RamBlock block(String name) {
    for (RamBlock block : blocks) {
      if (block.name().equals(name)) {
        return block;
      }
    }
    return null;
  }

  /** The block that holds guest-physical {@code address}, or null if none does. */
  public RamBlock blockAt(long address) {
    int low = 0;
    int high = byAddress.length - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      RamBlock block = byAddress[mid];
      if (address < block.guestAddress()) {
        high = mid - 1;
      } else if (block.contains(address)) {
        return block;
      } else {
        low = mid + 1;
      }
    }
    return null;
  }

  /** Sum of the blocks' used lengths, in bytes. */
  public long totalBytes() {
    long total = 0;
    for (RamBlock block : blocks) {
      total += block.usedLength();
    }
    return total;
  }

  /** Sum of the blocks' pages. */
  public long totalPages() {
    return totalBytes() >>> PAGE_SHIFT;
  }

  /**
   * Writes {@code length} bytes of {@code src} at guest-physical {@code address} and marks the
   * pages dirty.
   *
   * @throws IndexOutOfBoundsException if the range is not inside one block
   */
  public void write(long address, byte[] src, int srcOffset, int length) {
    Objects.checkFromIndexSize(srcOffset, length, src.length);
    RamBlock block = blockFor(address, length);
    block.writeBytes(address - block.guestAddress(), src, srcOffset, length);
  }

  /**
   * Writes a native-order {@code long} at 8-byte aligned {@code address} and marks its page dirty.
   */
  public void writeLong(long address, long value) {
    if ((address & 7) != 0) {
      throw new IllegalArgumentException("unaligned long write at 0x" + Long.toHexString(address));
    }
    RamBlock block = blockFor(address, Long.BYTES);
    block.writeLong(address - block.guestAddress(), value);
  }

  /** Fills {@code length} bytes at {@code address} with {@code value} and marks the pages dirty. */
  public void fill(long address, long length, byte value) {
    RamBlock block = blockFor(address, length);
    block.fill(address - block.guestAddress(), length, value);
  }

  /**
   * For a migration destination only: page {@code page} of {@code block} as a writable buffer of
   * its 4096 bytes (position 0, limit 4096), into which a transport reads a page's bytes straight
   * from the network, with no copy of its own. The page is marked populated first, so that it is
   * never taken for a zero page once bytes have landed in it, but not dirty: {@link #landed} marks
   * it written, as {@link #write} would, once the bytes are known to be good. Nothing else may be
   * written through the buffer.
   *
   * @throws IllegalArgumentException if {@code block} is not one of this memory's blocks
   * @throws IndexOutOfBoundsException if the page is not inside the block
   */
  public ByteBuffer landingPage(RamBlock block, long page) {
    checkOwn(block);
    return block.landingPage(page);
  }

  /**
   * For a migration destination only: the bytes read into {@link #landingPage} of {@code page} of
   * {@code block} are good; marks the page written (populated and dirty), as {@link #write} does.
   */
  public void landed(RamBlock block, long page) {
    checkOwn(block);
    block.landed(page);
  }

  private void checkOwn(RamBlock block) {
    if (closed) {
      throw new IllegalStateException("guest memory is closed");
    }
    if (block.id() >= blocks.size() || blocks.get(block.id()) != block) {
      throw new IllegalArgumentException(block + " is not a block of this memory");
    }
  }

  /** Reads {@code length} bytes at {@code address} into {@code dst}. */
  public void read(long address, byte[] dst, int dstOffset, int length) {
    Objects.checkFromIndexSize(dstOffset, length, dst.length);
    RamBlock block = blockFor(address, length);
    block.readBytes(address - block.guestAddress(), dst, dstOffset, length);
  }

  /** Reads the native-order {@code long} at 8-byte aligned {@code address}. */
  public long readLong(long address) {
    if ((address & 7) != 0) {
      throw new IllegalArgumentException("unaligned long read at 0x" + Long.toHexString(address));
    }
    RamBlock block = blockFor(address, Long.BYTES);
    return block.readLong(address - block.guestAddress());
  }

  private RamBlock blockFor(long address, long length) {
    if (closed) {
      throw new IllegalStateException("guest memory is closed");
    }
    RamBlock block = blockAt(address);
    if (block == null
        || length < 0
        || length > block.usedLength() - (address - block.guestAddress())) {
      throw new IndexOutOfBoundsException(
          "guest range [0x"
              + Long.toHexString(address)
              + ", +"
              + length
              + ") is not inside one RAM block of "
              + blocks);
    }
    return block;
  }

  /**
   * Whether {@code error} is the JVM's report of a fault on mapped memory: an {@link InternalError}
   * ("a fault occurred in a recent unsafe memory access operation") raised for a page that could
   * not be provided, because the file system behind the memory is full (tmpfs has no page left to
   * give) or the mapped file was truncated. The JVM raises it on the thread that accessed the
   * memory, at the access or shortly after it.
   */
  public static boolean isMemoryFault(Throwable error) {
    return error instanceof InternalError
        && error.getMessage() != null
        && error.getMessage().contains("unsafe memory access");
  }

  /**
   * Throws, on this thread, a {@linkplain #isMemoryFault memory fault} that the JVM has noted but
   * not thrown yet. JDK 17 skips a store that faults in compiled code and throws the error only
   * when the thread next enters the VM, which a tight loop may not do for a long time (later JDKs
   * throw at the store). Call this before relying on earlier stores: before saying they are
   * complete, and before reading pages they wrote, since reading a page whose store was skipped can
   * fault where the JVM cannot recover. Costs one small allocation made by the VM.
   */
  public static void checkPendingFault() {
    // A two-dimensional array of lengths the compiler cannot know is allocated by the VM in every
    // tier (interpreter, C1, C2), and the thread checks for a pending fault as it leaves the VM.
    int length = faultCheckLength;
    faultCheckArray = new byte[length][length];
  }

  /** Always 1; volatile so that no compiler treats it as a constant. */
  private static volatile int faultCheckLength = 1;

  /** Keeps {@link #checkPendingFault}'s allocation from being optimised away. */
  private static volatile Object faultCheckArray;

  /**
   * One line that explains a {@linkplain #isMemoryFault memory fault} at or near guest-physical
   * {@code address}: the block and page, where the block's memory lives and how much room is left
   * there now.
   */
  public String describeFault(long address) {
    RamBlock block = blockAt(address);
    if (block == null) {
      return "memory fault at guest address 0x"
          + Long.toHexString(address)
          + ": a file system behind the guest memory is full or a mapped file was truncated";
    }
    long page = (address - block.guestAddress()) >>> PAGE_SHIFT;
    Path backing = block.backing();
    if (backing == null) {
      return "memory fault at page "
          + page
          + " of RAM block "
          + block.name()
          + (block.isApplicationMapped()
              ? " (memory mapped by the application): its file system is full or its file was"
                  + " truncated"
              : " (anonymous memory on huge pages)");
    }
    String free;
    try {
      free = formatBytes(Files.getFileStore(backing).getUsableSpace()) + " free";
    } catch (IOException | RuntimeException e) {
      free = "free space unknown";
    }
    return "memory fault at page "
        + page
        + " of RAM block "
        + block.name()
        + " (mapped from "
        + backing
        + ", "
        + free
        + "): the file system is full or the file was truncated";
  }

  /** Bytes in binary units with two decimals, e.g. {@code 1.50 GiB}; below 1 KiB in bytes. */
  static String formatBytes(long bytes) {
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
      return bytes + " bytes";
    }
    double value = bytes;
    int unit = -1;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.2f %s", value, units[unit]);
  }

  /**
   * As {@link #startDirtyTracking(String)} with the {@linkplain DirtyTracking#SOFTWARE software
   * log}.
   */
  public DirtyTracker startDirtyTracking() {
    return startDirtyTracking(DirtyTracking.SOFTWARE);
  }

  /**
   * Starts tracking the pages written, for one migration: from now on only the returned tracker
   * takes them, until it is closed.
   *
   * @param tracking a {@link DirtyTracking} name: {@value DirtyTracking#SOFTWARE} or {@value
   *     DirtyTracking#KERNEL}
   * @throws IllegalArgumentException if no tracking has that name
   * @throws UnsupportedOperationException if the tracking cannot work here, or cannot see this
   *     memory's writes (the software log and an application-mapped block): the message says why in
   *     one line
   * @throws IllegalStateException if a tracker is already open (another migration of this memory is
   *     running) or the memory is closed
   */
  public synchronized DirtyTracker startDirtyTracking(String tracking) {
    Objects.requireNonNull(tracking, "tracking");
    if (closed) {
      throw new IllegalStateException("guest memory is closed");
    }
    if (tracker != null) {
      throw new IllegalStateException(
          "the dirty log of this guest memory is already tracked (is another migration running?)");
    }
    if (DirtyTracking.SOFTWARE.equals(tracking)) {
      for (RamBlock block : blocks) {
        if (block.isApplicationMapped()) {
          throw new UnsupportedOperationException(
              "RAM block "
                  + block.name()
                  + " is written by the application, which the software dirty log cannot see:"
                  + " track it with dirty tracking "
                  + DirtyTracking.KERNEL);
        }
      }
      tracker = new DirtyTracker(this, tracking, null);
      return tracker;
    }
    WriteTrackingProvider provider = DirtyTracking.provider(tracking);
    List<WriteTracker> opened = new ArrayList<>();
    try {
      for (RamBlock block : blocks) {
        opened.add(provider.open(block.regions()));
      }
    } catch (RuntimeException | Error e) {
      opened.forEach(WriteTracker::close);
      throw e;
    }
    for (RamBlock block : blocks) {
      block.softwareLog(false);
    }
    tracker = new DirtyTracker(this, tracking, List.copyOf(opened));
    return tracker;
  }

  synchronized void stopDirtyTracking(DirtyTracker stopped) {
    if (tracker == stopped) {
      tracker = null;
      if (stopped.writeTrackers() != null) {
        stopped.writeTrackers().forEach(WriteTracker::close);
        for (RamBlock block : blocks) {
          block.softwareLog(true);
        }
      }
    }
  }

  /**
   * Unmaps the memory. Idempotent; nothing may use the memory or its blocks afterwards.
   *
   * @throws IllegalStateException if a migration of this memory is running (its dirty log is
   *     tracked): unmapping memory that the migration thread reads would crash the JVM, so the
   *     memory stays mapped; cancel the migration and await its end first
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    if (tracker != null) {
      throw new IllegalStateException(
          "guest memory is being migrated: cancel the migration and await its end before closing"
              + " the memory");
    }
    closed = true;
    mappings.release(blocks);
    hugePageMappings.forEach(HugePageMemoryProvider.Mapping::close);
  }

  /**
   * Touches every page that was never written, in parallel threads (one per processor), so that the
   * kernel allocates the memory now rather than at the first write of a migration: QEMU's {@code
   * -mem-prealloc} / {@code prealloc=on}. Pages keep their contents (never-written pages are zero,
   * and are written with zero). Call it before the memory is used, not while anything writes it.
   *
   * @return this memory
   * @throws IllegalStateException if the memory is closed
   */
  public GuestMemory preallocate() {
    if (closed) {
      throw new IllegalStateException("guest memory is closed");
    }
    int threads = Runtime.getRuntime().availableProcessors();
    List<Thread> touchers = new ArrayList<>();
    Throwable[] failure = new Throwable[threads];
    for (int t = 0; t < threads; t++) {
      int part = t;
      Thread toucher =
          new Thread(
              () -> {
                try {
                  for (RamBlock block : blocks) {
                    long pages = block.pageCount();
                    block.touchUnwritten(pages * part / threads, pages * (part + 1) / threads);
                  }
                  checkPendingFault();
                } catch (RuntimeException | Error e) {
                  failure[part] = e;
                }
              },
              "precopy-prealloc-" + t);
      touchers.add(toucher);
      toucher.start();
    }
    boolean interrupted = false;
    for (Thread toucher : touchers) {
      while (true) {
        try {
          toucher.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    for (Throwable e : failure) {
      if (e instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (e instanceof Error error) {
        throw error;
      }
    }
    return this;
  }

  /** Builds a {@link GuestMemory}; blocks must have unique names and must not overlap. */
  public static final class Builder {
    private final List<BlockSpec> specs = new ArrayList<>();
    private boolean transparentHugePages;

    private Builder() {}

    /**
     * Maps the anonymous blocks as private anonymous memory on transparent huge pages, as QEMU's
     * {@code memory-backend-ram} on Linux, instead of {@code /dev/shm} files (which get no huge
     * pages unless {@code shmem_enabled} allows them). The first touch of 2 MiB then costs one page
     * fault instead of 512. Needs JDK 22+ with {@code precopy-kernel} on the class path and Linux
     * with transparent huge pages not disabled; {@link #build()} says in one line which is missing.
     */
    public Builder transparentHugePages() {
      this.transparentHugePages = true;
      return this;
    }

    /** Adds an anonymous (memfd-like) block; its memory starts zeroed. */
    public Builder anonymousBlock(String name, long guestAddress, long usedLength) {
      specs.add(new BlockSpec(name, guestAddress, usedLength, null, null));
      return this;
    }

    /**
     * Adds a block backed by {@code file}, created or extended to {@code usedLength}; existing
     * contents become the block's contents, and guest writes reach the file.
     */
    public Builder fileBackedBlock(String name, long guestAddress, long usedLength, Path file) {
      specs.add(new BlockSpec(name, guestAddress, usedLength, Objects.requireNonNull(file), null));
      return this;
    }

    /**
     * Adds a block over memory the application has mapped and writes itself, as QEMU's memory
     * backends ({@code memory-backend-ram}, {@code -memfd}, {@code -file}): an existing off-heap
     * structure is migrated as it is. The application keeps writing it however it likes (a {@code
     * ByteBuffer}, a {@code MemorySegment}, native code), so only {@linkplain DirtyTracking#KERNEL
     * kernel tracking} can migrate it, and the destination can receive into such a block too.
     *
     * <p>The block's pages are {@code regions} in order, each region's whole capacity: direct
     * buffers, page-aligned (the kernel checks when it starts tracking), each a whole number of
     * pages, every one but the last a whole number of GiB. The application keeps them mapped until
     * the {@link GuestMemory} is closed, which leaves them mapped.
     *
     * @throws IllegalArgumentException if a region is not direct, is read-only or has the wrong
     *     size
     */
    public Builder applicationBlock(String name, long guestAddress, List<ByteBuffer> regions) {
      List<ByteBuffer> chunks = new ArrayList<>();
      long length = 0;
      for (int i = 0; i < regions.size(); i++) {
        ByteBuffer region = regions.get(i);
        String what = "RAM block " + name + ": region " + i;
        if (!region.isDirect() || region.isReadOnly()) {
          throw new IllegalArgumentException(what + " must be a writable direct buffer");
        }
        long capacity = region.capacity();
        if (capacity == 0 || capacity % PAGE_SIZE != 0) {
          throw new IllegalArgumentException(
              what + " holds " + capacity + " bytes, not a positive multiple of " + PAGE_SIZE);
        }
        if (i < regions.size() - 1 && capacity % RamBlock.CHUNK_BYTES != 0) {
          throw new IllegalArgumentException(
              what + " holds " + capacity + " bytes: every region but the last must be whole GiB");
        }
        for (long at = 0; at < capacity; at += RamBlock.CHUNK_BYTES) {
          int size = (int) Math.min(RamBlock.CHUNK_BYTES, capacity - at);
          chunks.add(region.slice((int) at, size).order(ByteOrder.nativeOrder()));
        }
        length += capacity;
      }
      specs.add(new BlockSpec(name, guestAddress, length, null, List.copyOf(chunks)));
      return this;
    }

    /**
     * Maps the memory of every block, once it is known to fit.
     *
     * <p>Mapped memory is allocated as it is first written, so a file system that fills up later
     * would fault the write that needs one more page. Java cannot reserve the pages up front
     * without writing them ({@code fallocate} is out of its reach), so this checks instead that
     * each file system holding a block has room for the whole of it now: anonymous blocks on {@code
     * /dev/shm} (or {@code java.io.tmpdir}), file-backed blocks beside their file, whose present
     * length counts as allocated. Whatever else uses that space later, another guest memory
     * included, can still make a write fault: see {@link #isMemoryFault}.
     *
     * @throws UncheckedIOException if a file system lacks room for its blocks (the message names
     *     what is needed and what is free), or the memory cannot be mapped
     */
    public GuestMemory build() {
      validate();
      checkSpace();
      HugePageMemoryProvider hugePages = transparentHugePages ? hugePageProvider() : null;
      List<RamBlock> blocks = new ArrayList<>();
      Mappings mappings = Mappings.create();
      List<HugePageMemoryProvider.Mapping> hugePageMappings = new ArrayList<>();
      try {
        for (BlockSpec spec : specs) {
          if (hugePages != null && spec.regions == null && spec.file == null) {
            HugePageMemoryProvider.Mapping mapping = hugePages.map(spec.usedLength);
            hugePageMappings.add(mapping);
            blocks.add(
                new RamBlock(
                    spec.name,
                    blocks.size(),
                    spec.guestAddress,
                    spec.usedLength,
                    mapping.regions().toArray(new ByteBuffer[0]),
                    null,
                    false,
                    false));
            continue;
          }
          if (spec.regions != null) {
            blocks.add(
                new RamBlock(
                    spec.name,
                    blocks.size(),
                    spec.guestAddress,
                    spec.usedLength,
                    spec.regions.toArray(new ByteBuffer[0]),
                    null,
                    true,
                    true));
            continue;
          }
          Path backing = spec.file == null ? anonymousDirectory() : spec.file.toAbsolutePath();
          blocks.add(
              new RamBlock(
                  spec.name,
                  blocks.size(),
                  spec.guestAddress,
                  spec.usedLength,
                  map(spec, backing, mappings),
                  backing,
                  spec.file != null,
                  false));
        }
      } catch (IOException e) {
        new GuestMemory(blocks, mappings, hugePageMappings).close();
        throw new UncheckedIOException("cannot map guest memory: " + e.getMessage(), e);
      } catch (RuntimeException | Error e) {
        new GuestMemory(blocks, mappings, hugePageMappings).close();
        throw e;
      }
      return new GuestMemory(blocks, mappings, hugePageMappings);
    }

    /**
     * Why {@link #transparentHugePages()} cannot work in this process, in one line naming what is
     * missing, or empty when it can.
     */
    public static Optional<String> transparentHugePagesUnavailableReason() {
      try {
        hugePageProvider();
        return Optional.empty();
      } catch (UnsupportedOperationException e) {
        return Optional.of(e.getMessage());
      }
    }

    /** The provider of huge-page memory, usable here, or a one-line reason why there is none. */
    private static HugePageMemoryProvider hugePageProvider() {
      if (Runtime.version().feature() < 22) {
        throw new UnsupportedOperationException(
            "transparent huge pages need JDK 22 or later (the foreign function API); this is JDK "
                + Runtime.version().feature());
      }
      for (HugePageMemoryProvider provider : ServiceLoader.load(HugePageMemoryProvider.class)) {
        Optional<String> reason = provider.unavailableReason();
        if (reason.isPresent()) {
          throw new UnsupportedOperationException(reason.get());
        }
        return provider;
      }
      throw new UnsupportedOperationException(
          "transparent huge pages need precopy-kernel on the class path");
    }

    /** Fails, naming need and free space, if a file system cannot hold the blocks it would. */
    private void checkSpace() {
      Map<FileStore, Long> needed = new LinkedHashMap<>();
      Map<FileStore, Path> where = new HashMap<>();
      for (BlockSpec spec : specs) {
        if (spec.regions != null || (transparentHugePages && spec.file == null)) {
          continue;
        }
        Path directory;
        long bytes = spec.usedLength;
        try {
          if (spec.file == null) {
            directory = anonymousDirectory();
          } else {
            Path file = spec.file.toAbsolutePath();
            directory = file.getParent();
            if (Files.exists(file)) {
              bytes = Math.max(0, spec.usedLength - Files.size(file));
            }
          }
          FileStore store = Files.getFileStore(directory);
          needed.merge(store, bytes, Long::sum);
          where.putIfAbsent(store, directory);
        } catch (IOException | RuntimeException e) {
          // Mapping the block will report what is wrong with its file.
        }
      }
      for (Map.Entry<FileStore, Long> need : needed.entrySet()) {
        long free;
        try {
          free = need.getKey().getUsableSpace();
        } catch (IOException e) {
          continue;
        }
        if (need.getValue() > free) {
          String message =
              "cannot map guest memory: it needs "
                  + formatBytes(need.getValue())
                  + " in "
                  + where.get(need.getKey())
                  + ", which has "
                  + formatBytes(free)
                  + " free";
          throw new UncheckedIOException(message, new IOException(message));
        }
      }
    }

    private void validate() {
      if (specs.isEmpty()) {
        throw new IllegalArgumentException("guest memory needs at least one RAM block");
      }
      Set<String> names = new HashSet<>();
      for (BlockSpec spec : specs) {
        if (spec.name == null || spec.name.isEmpty()) {
          throw new IllegalArgumentException("RAM block name must not be empty");
        }
        if (!names.add(spec.name)) {
          throw new IllegalArgumentException("duplicate RAM block name " + spec.name);
        }
        if (spec.usedLength <= 0 || (spec.usedLength & (PAGE_SIZE - 1)) != 0) {
          throw new IllegalArgumentException(
              "RAM block "
                  + spec.name
                  + ": used length "
                  + spec.usedLength
                  + " must be a positive multiple of "
                  + PAGE_SIZE);
        }
        if (spec.guestAddress < 0 || (spec.guestAddress & (PAGE_SIZE - 1)) != 0) {
          throw new IllegalArgumentException(
              "RAM block "
                  + spec.name
                  + ": guest address 0x"
                  + Long.toHexString(spec.guestAddress)
                  + " must be non-negative and page-aligned");
        }
        if (spec.guestAddress > Long.MAX_VALUE - spec.usedLength) {
          throw new IllegalArgumentException("RAM block " + spec.name + " ends past 2^63");
        }
      }
      List<BlockSpec> sorted = new ArrayList<>(specs);
      sorted.sort(Comparator.comparingLong(s -> s.guestAddress));
      for (int i = 1; i < sorted.size(); i++) {
        BlockSpec previous = sorted.get(i - 1);
        if (previous.guestAddress + previous.usedLength > sorted.get(i).guestAddress) {
          throw new IllegalArgumentException(
              "RAM blocks " + previous.name + " and " + sorted.get(i).name + " overlap");
        }
      }
    }

    /** Where anonymous blocks are mapped from: {@code /dev/shm}, or {@code java.io.tmpdir}. */
    private static Path anonymousDirectory() {
      Path shm = Path.of("/dev/shm");
      return Files.isDirectory(shm) && Files.isWritable(shm)
          ? shm
          : Path.of(System.getProperty("java.io.tmpdir"));
    }

    private static MappedByteBuffer[] map(BlockSpec spec, Path backing, Mappings mappings)
        throws IOException {
      Path file = spec.file;
      boolean anonymous = file == null;
      if (anonymous) {
        file = Files.createTempFile(backing, "precopy-", ".ram");
      }
      try (FileChannel channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        if (channel.size() < spec.usedLength) {
          // Sparse extension: pages are allocated on first touch, as anonymous guest RAM.
          channel.write(ByteBuffer.wrap(new byte[1]), spec.usedLength - 1);
        }
        int count = (int) ((spec.usedLength + RamBlock.CHUNK_BYTES - 1) >>> RamBlock.CHUNK_SHIFT);
        MappedByteBuffer[] chunks = new MappedByteBuffer[count];
        for (int i = 0; i < count; i++) {
          long position = (long) i << RamBlock.CHUNK_SHIFT;
          long size = Math.min(RamBlock.CHUNK_BYTES, spec.usedLength - position);
          chunks[i] = mappings.map(channel, position, size);
          chunks[i].order(ByteOrder.nativeOrder());
        }
        return chunks;
      } finally {
        if (anonymous) {
          Files.deleteIfExists(file);
        }
      }
    }
  }

  /**
   * A block to build: anonymous, file-backed ({@code file}) or application-mapped ({@code
   * regions}).
   */
  private record BlockSpec(
      String name, long guestAddress, long usedLength, Path file, List<ByteBuffer> regions) {}
}
