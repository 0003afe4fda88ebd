package io.github.precopy.sim;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongUnaryOperator;

/**
 * A Linux-style binary buddy page allocator over every page of a {@link GuestMemory}: the guest
 * kernel's view of which pages are free.
 *
 * <p>Units: addresses are guest-physical byte addresses; a block of order {@code k} is {@code 2^k}
 * contiguous pages of {@link GuestMemory#PAGE_SIZE} bytes (order 0 = 4 KiB, {@link #MAX_ORDER} = 4
 * MiB). A block never crosses a RAM block and is aligned to its own size relative to the start of
 * its RAM block. At construction all memory is free, split into the largest aligned blocks.
 *
 * <p>Allocation follows Linux's {@code __rmqueue_smallest}: take the first block of the smallest
 * order that has one, split it, keep the lower half and put the upper halves on the free lists.
 * Free lists are LIFO (a freed block is the next one handed out, as the kernel's free lists hand
 * out cache-hot pages first), except that a freed block whose parent's buddy is free goes to the
 * tail, to be merged rather than handed out (Linux's {@code buddy_merge_likely}); the initial
 * blocks are handed out lowest address first. Freeing merges a block with its free buddy,
 * repeatedly, so freeing everything restores the initial blocks. A freed page keeps its stale
 * contents; an allocated one is zeroed only with {@link #initOnAlloc(boolean) init_on_alloc}. An
 * allocation fails at once when no block is large enough; it never waits.
 *
 * <p>Watermarks, as Linux computes them for one zone ({@code min_free_kbytes} = sqrt(16 × KiB of
 * memory), low = min + max(min / 4, 0.1 % of memory), high = low + the same): {@link
 * #allocateDiscardable} leaves the low watermark free, as the balloon driver's allocation without
 * reclaim flags does; {@link #allocate} and {@link #allocateUnmovable} may take every page, and
 * when one leaves less than the low watermark free, the calling thread then runs the shrinkers
 * ({@link #reclaim}) until the high watermark is free again: the work kswapd does.
 *
 * <p>Grouping by mobility, as Linux's anti-fragmentation: memory is divided into pageblocks of
 * {@code 2^}{@link #PAGEBLOCK_ORDER} pages (2 MiB), each of one migrate type, movable (user memory
 * and page cache: {@link #allocate}) or unmovable (kernel memory: {@link #allocateUnmovable});
 * every pageblock starts movable. Free blocks sit on the free list of their pageblock's type and an
 * allocation takes from its own type's lists first. When they are empty it falls back as {@code
 * __rmqueue_fallback} does: an unmovable allocation takes the largest free movable block and claims
 * its whole pageblock (the pageblock's type changes when at least half of it is free or already
 * unmovable), so that long-lived kernel allocations gather in few pageblocks instead of splitting
 * the 4 MiB blocks user memory frees; a movable allocation of order 4 or more does the same, a
 * smaller one takes the smallest unmovable block.
 *
 * <p>Thread-safety: every method is thread-safe; one internal lock serialises them. Each operation
 * is O({@link #MAX_ORDER}), apart from {@link #pagesInUse}, which walks the RAM block.
 */
public final class BuddyAllocator {

  /** The largest order: blocks of {@code 2^10} pages, 4 MiB (Linux {@code MAX_PAGE_ORDER}). */
  public static final int MAX_ORDER = 10;

  /** The order of a pageblock, the unit of grouping by mobility: 2 MiB, as on x86-64. */
  public static final int PAGEBLOCK_ORDER = 9;

  /*
   * Layout: pages of all RAM blocks are numbered globally (block after block, by id); page state
   * and the free lists are arrays indexed by that number. state[p] is 0 unless p is the first page
   * of a block ("head"): then it holds the order in the low four bits and FREE, or IN_USE
   * (optionally with DISCARDABLE), and UNMOVABLE for a free block on an unmovable list or an
   * unmovable allocation. Every page of guest memory lies in exactly one block, so the block
   * holding page p is the first head found at p aligned down to 2^0, 2^1, ... whose order is at
   * least that alignment. Free heads are linked in per-type, per-order doubly linked lists
   * (next/prev). pageblockType holds each pageblock's migrate type, pageblocks numbered per RAM
   * block from firstPageblock.
   */
  private static final int ORDER_BITS = 0x0F;
  private static final int FREE = 0x10;
  private static final int IN_USE = 0x20;
  private static final int DISCARDABLE = 0x40;
  private static final int UNMOVABLE_BIT = 0x80;
  private static final int NONE = -1;
  private static final int MOVABLE = 0;
  private static final int UNMOVABLE = 1;
  private static final int PAGEBLOCK_PAGES = 1 << PAGEBLOCK_ORDER;

  private final GuestMemory memory;
  private final int[] firstPage;
  private final int[] pageCount;
  private final long[] blockAddress;
  private final byte[] state;
  private final int[] next;
  private final int[] prev;
  private final int[] firstPageblock;
  private final byte[] pageblockType;
  private final int[][] freeHead = new int[2][MAX_ORDER + 1];
  private final int[][] freeTail = new int[2][MAX_ORDER + 1];
  private final long[][] freeCount = new long[2][MAX_ORDER + 1];
  private final long totalPages;
  private final long lowWatermark;
  private final long highWatermark;
  private final Object lock = new Object();
  private final List<LongUnaryOperator> shrinkers = new CopyOnWriteArrayList<>();
  private volatile boolean initOnAlloc;
  private long freePages;

  /**
   * Creates an allocator with every page of {@code memory} free.
   *
   * @throws IllegalArgumentException if the memory has {@code 2^31} pages (8 TiB) or more
   */
  public BuddyAllocator(GuestMemory memory) {
    this.memory = memory;
    List<RamBlock> blocks = memory.blocks();
    long total = memory.totalPages();
    if (total > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "guest memory of " + total + " pages is too large for the allocator (max 2^31 - 1)");
    }
    totalPages = total;
    long minPages = Math.max(128, Math.min(262_144, (long) Math.sqrt(total * 4.0 * 16))) / 4;
    long step = Math.max(minPages / 4, total * 10 / 10_000);
    lowWatermark = minPages + step;
    highWatermark = lowWatermark + step;
    firstPage = new int[blocks.size()];
    pageCount = new int[blocks.size()];
    blockAddress = new long[blocks.size()];
    firstPageblock = new int[blocks.size()];
    int first = 0;
    int pageblocks = 0;
    for (RamBlock block : blocks) {
      firstPage[block.id()] = first;
      pageCount[block.id()] = (int) block.pageCount();
      blockAddress[block.id()] = block.guestAddress();
      firstPageblock[block.id()] = pageblocks;
      first += (int) block.pageCount();
      pageblocks += (int) ((block.pageCount() + PAGEBLOCK_PAGES - 1) >> PAGEBLOCK_ORDER);
    }
    state = new byte[first];
    next = new int[first];
    prev = new int[first];
    pageblockType = new byte[pageblocks];
    for (int type = 0; type < 2; type++) {
      Arrays.fill(freeHead[type], NONE);
      Arrays.fill(freeTail[type], NONE);
    }
    List<RamBlock> byAddress = new ArrayList<>(blocks);
    byAddress.sort(Comparator.comparingLong(RamBlock::guestAddress).reversed());
    for (RamBlock block : byAddress) {
      freeInitialBlocks(block.id());
    }
  }

  /**
   * Allocates a movable block of {@code 2^order} pages: user memory or page cache.
   *
   * @return the block's guest-physical address, or -1 if no free block of that order or larger is
   *     left
   * @throws IllegalArgumentException if {@code order} is outside {@code [0, MAX_ORDER]}
   */
  public long allocate(int order) {
    return reclaimBelowLow(initialise(allocate(order, IN_USE, MOVABLE), order));
  }

  /**
   * Allocates an unmovable block of {@code 2^order} pages: kernel memory such as page tables, slab
   * caches or the kernel's own image, which Linux groups into pageblocks of their own.
   *
   * @return the block's guest-physical address, or -1 if no free block of that order or larger is
   *     left
   * @throws IllegalArgumentException if {@code order} is outside {@code [0, MAX_ORDER]}
   */
  public long allocateUnmovable(int order) {
    return reclaimBelowLow(initialise(allocate(order, IN_USE, UNMOVABLE), order));
  }

  /**
   * Linux's {@code init_on_alloc}: whether every block handed out from now on is first zeroed
   * through {@link GuestMemory#fill}, so that the zeroing marks its pages dirty as the guest's own
   * writes do. Off at construction; Debian's kernels turn it on by default ({@code
   * init_on_alloc=1}). The zeroing runs on the allocating thread, outside the allocator's lock.
   */
  public void initOnAlloc(boolean on) {
    initOnAlloc = on;
  }

  /** Whether blocks are zeroed as they are handed out; see {@link #initOnAlloc(boolean)}. */
  public boolean initOnAlloc() {
    return initOnAlloc;
  }

  private long initialise(long address, int order) {
    if (initOnAlloc && address >= 0) {
      memory.fill(address, (1L << order) * GuestMemory.PAGE_SIZE, (byte) 0);
    }
    return address;
  }

  /** kswapd: after an allocation that left less than the low watermark free, reclaims to high. */
  private long reclaimBelowLow(long address) {
    if (!shrinkers.isEmpty()) {
      long free = freePages();
      if (free < lowWatermark) {
        reclaim(highWatermark - free);
      }
    }
    return address;
  }

  /**
   * Allocates a block whose contents the guest will never read while it holds it, such as the
   * blocks the balloon driver holds while it reports them as free page hints. Such a block counts
   * as allocated ({@link #isAllocated}, {@link #freePages}) but not as in use ({@link
   * #pagesInUse}). It is unmovable, as the Linux driver's allocation flags do not ask for movable
   * memory. Free it with {@link #free} as any other block.
   *
   * @return the block's guest-physical address, or -1 if no free block of that order or larger is
   *     left or taking it would leave less than the low watermark free
   * @throws IllegalArgumentException if {@code order} is outside {@code [0, MAX_ORDER]}
   */
  public long allocateDiscardable(int order) {
    checkOrder(order);
    long address;
    synchronized (lock) {
      if (freePages - (1L << order) < lowWatermark) {
        return -1;
      }
      address = allocate(order, IN_USE | DISCARDABLE, UNMOVABLE);
    }
    return initialise(address, order);
  }

  private long allocate(int order, int kind, int type) {
    checkOrder(order);
    synchronized (lock) {
      int k = smallestFree(order, type);
      if (k < 0) {
        if (!steal(order, type)) {
          return -1;
        }
        k = smallestFree(order, type);
      }
      int page = freeHead[type][k];
      unlink(page, k);
      while (k > order) {
        k--;
        pushFree(page + (1 << k), k, type);
      }
      state[page] = (byte) (kind | order | (type == UNMOVABLE ? UNMOVABLE_BIT : 0));
      freePages -= 1L << order;
      return address(page);
    }
  }

  private int smallestFree(int order, int type) {
    for (int k = order; k <= MAX_ORDER; k++) {
      if (freeHead[type][k] != NONE) {
        return k;
      }
    }
    return -1;
  }

  /**
   * Linux's {@code __rmqueue_fallback}: moves a free block of the other type to {@code type}'s
   * lists, claiming its pageblock where Linux would. Returns false if the other type has no free
   * block of {@code order} or larger either.
   */
  private boolean steal(int order, int type) {
    int other = 1 - type;
    boolean claim = type == UNMOVABLE || order >= PAGEBLOCK_ORDER / 2;
    int k = MAX_ORDER;
    while (k >= order && freeHead[other][k] == NONE) {
      k--;
    }
    if (k < order) {
      return false;
    }
    if (!claim && k > order) {
      k = smallestFree(order, other);
    }
    int page = freeHead[other][k];
    if (k >= PAGEBLOCK_ORDER) {
      for (int p = page; p < page + (1 << k); p += PAGEBLOCK_PAGES) {
        pageblockType[pageblockOf(p)] = (byte) type;
      }
    } else if (claim) {
      claimPageblock(page, type);
      return true;
    }
    unlink(page, k);
    pushFree(page, k, type);
    return true;
  }

  /**
   * Linux's {@code steal_suitable_fallback} for a block smaller than a pageblock: moves every free
   * block of the pageblock holding {@code page} to {@code type}'s lists and changes the pageblock's
   * type if at least half of it is free or allocated as {@code type}.
   */
  private void claimPageblock(int page, int type) {
    int id = blockOf(page);
    int first = firstPage[id];
    int start = first + ((page - first) & -PAGEBLOCK_PAGES);
    int end = Math.min(start + PAGEBLOCK_PAGES, first + pageCount[id]);
    int alike = 0;
    int p = start;
    while (p < end) {
      int s = state[p] & 0xFF;
      int k = s & ORDER_BITS;
      if ((s & FREE) != 0) {
        if (headType(p) != type) {
          unlink(p, k);
          pushFree(p, k, type);
        }
        alike += 1 << k;
      } else if (headType(p) == type) {
        alike += 1 << k;
      }
      p += 1 << k;
    }
    if (alike >= PAGEBLOCK_PAGES / 2) {
      pageblockType[pageblockOf(start)] = (byte) type;
    }
  }

  /**
   * Frees the block of {@code 2^order} pages at {@code address}, merging it with its free buddies.
   * The pages keep their contents.
   *
   * @throws IllegalArgumentException if {@code address} is not the start of an allocated block of
   *     exactly that order (a double free, a wrong order, an address inside a block or outside
   *     guest memory); the message says which
   */
  public void free(long address, int order) {
    checkOrder(order);
    synchronized (lock) {
      int page = pageIndex(address);
      byte s = state[page];
      if ((s & IN_USE) == 0 || (s & ORDER_BITS) != order) {
        throw new IllegalArgumentException(describeBadFree(address, page, order));
      }
      state[page] = 0;
      freePages += 1L << order;
      int id = blockOf(page);
      int first = firstPage[id];
      int relative = page - first;
      int k = order;
      while (k < MAX_ORDER) {
        int buddy = relative ^ (1 << k);
        if (buddy >= pageCount[id] || !isFreeHead(first + buddy, k)) {
          break;
        }
        unlink(first + buddy, k);
        relative &= buddy;
        k++;
      }
      int type = pageblockType[pageblockOf(first + relative)];
      if (mergeLikely(id, relative, k)) {
        appendFree(first + relative, k, type);
      } else {
        pushFree(first + relative, k, type);
      }
    }
  }

  /** Whether the page holding {@code address} belongs to an allocated block. */
  public boolean isAllocated(long address) {
    synchronized (lock) {
      return (state[headOf(pageIndex(address))] & IN_USE) != 0;
    }
  }

  /** Number of free pages. */
  public long freePages() {
    synchronized (lock) {
      return freePages;
    }
  }

  /** Number of free blocks of exactly {@code order} on the free lists. */
  public long freeBlocks(int order) {
    checkOrder(order);
    synchronized (lock) {
      return freeCount[MOVABLE][order] + freeCount[UNMOVABLE][order];
    }
  }

  /**
   * The free blocks per RAM block and order, in the format of Linux's {@code /proc/buddyinfo}: one
   * line per RAM block (for a zone), {@code Node 0, zone NAME} followed by the number of free
   * blocks of orders 0 to {@link #MAX_ORDER}.
   */
  public String buddyInfo() {
    List<RamBlock> blocks = memory.blocks();
    long[][] counts = new long[blocks.size()][MAX_ORDER + 1];
    synchronized (lock) {
      for (int[] heads : freeHead) {
        for (int k = 0; k <= MAX_ORDER; k++) {
          for (int page = heads[k]; page != NONE; page = next[page]) {
            counts[blockOf(page)][k]++;
          }
        }
      }
    }
    StringBuilder text = new StringBuilder();
    for (RamBlock block : blocks) {
      text.append(String.format(Locale.ROOT, "Node 0, zone %8s ", block.name()));
      for (long count : counts[block.id()]) {
        text.append(String.format(Locale.ROOT, "%6d ", count));
      }
      text.append(System.lineSeparator());
    }
    return text.toString();
  }

  /** The low watermark in pages: {@link #allocateDiscardable} leaves this many free. */
  public long lowWatermark() {
    return lowWatermark;
  }

  /** Number of pages the allocator manages: every page of the guest memory. */
  public long totalPages() {
    return totalPages;
  }

  /**
   * A snapshot of the pages of {@code block} that are in use: allocated by {@link #allocate} (not
   * {@link #allocateDiscardable}). One bit per page of the block.
   *
   * @throws IllegalArgumentException if {@code block} is not a block of this allocator's memory
   */
  public PageBitmap pagesInUse(RamBlock block) {
    int id = block.id();
    if (id >= firstPage.length || memory.blocks().get(id) != block) {
      throw new IllegalArgumentException(block + " is not a RAM block of this guest");
    }
    PageBitmap inUse = new PageBitmap(pageCount[id]);
    int first = firstPage[id];
    synchronized (lock) {
      int runStart = -1;
      int page = 0;
      while (page < pageCount[id]) {
        int s = state[first + page];
        boolean used = (s & (IN_USE | DISCARDABLE)) == IN_USE;
        if (used && runStart < 0) {
          runStart = page;
        } else if (!used && runStart >= 0) {
          inUse.setRange(runStart, page);
          runStart = -1;
        }
        page += 1 << (s & ORDER_BITS);
      }
      if (runStart >= 0) {
        inUse.setRange(runStart, page);
      }
    }
    return inUse;
  }

  private void freeInitialBlocks(int id) {
    int pages = pageCount[id];
    List<int[]> initial = new ArrayList<>();
    int page = 0;
    while (page < pages) {
      int order = page == 0 ? MAX_ORDER : Math.min(MAX_ORDER, Integer.numberOfTrailingZeros(page));
      while (page + (1 << order) > pages) {
        order--;
      }
      initial.add(new int[] {page, order});
      page += 1 << order;
    }
    for (int i = initial.size() - 1; i >= 0; i--) {
      int[] block = initial.get(i);
      pushFree(firstPage[id] + block[0], block[1], MOVABLE);
      freePages += 1L << block[1];
    }
  }

  /**
   * Linux's {@code buddy_merge_likely}: whether the free block of {@code order} at {@code relative}
   * would merge two orders up as soon as its buddy is freed, because the buddy of their parent is
   * already free. Such a block goes to the tail of its list, so that it is handed out last.
   */
  private boolean mergeLikely(int id, int relative, int order) {
    if (order >= MAX_ORDER - 1) {
      return false;
    }
    int parent = relative & ~(1 << order);
    int parentBuddy = parent ^ (1 << (order + 1));
    return parentBuddy < pageCount[id] && isFreeHead(firstPage[id] + parentBuddy, order + 1);
  }

  /** Puts a free block at the tail of its list: handed out after every other block there. */
  private void appendFree(int page, int order, int type) {
    int tail = freeTail[type][order];
    if (tail == NONE) {
      pushFree(page, order, type);
      return;
    }
    state[page] = (byte) (FREE | order | (type == UNMOVABLE ? UNMOVABLE_BIT : 0));
    next[tail] = page;
    prev[page] = tail;
    next[page] = NONE;
    freeTail[type][order] = page;
    freeCount[type][order]++;
  }

  private void pushFree(int page, int order, int type) {
    state[page] = (byte) (FREE | order | (type == UNMOVABLE ? UNMOVABLE_BIT : 0));
    int head = freeHead[type][order];
    next[page] = head;
    prev[page] = NONE;
    if (head != NONE) {
      prev[head] = page;
    } else {
      freeTail[type][order] = page;
    }
    freeHead[type][order] = page;
    freeCount[type][order]++;
  }

  private void unlink(int page, int order) {
    int type = headType(page);
    int before = prev[page];
    int after = next[page];
    if (before == NONE) {
      freeHead[type][order] = after;
    } else {
      next[before] = after;
    }
    if (after != NONE) {
      prev[after] = before;
    } else {
      freeTail[type][order] = before;
    }
    state[page] = 0;
    freeCount[type][order]--;
  }

  /** Whether {@code page} heads a free block of exactly {@code order}, on either type's list. */
  private boolean isFreeHead(int page, int order) {
    return (state[page] & ~UNMOVABLE_BIT & 0xFF) == (FREE | order);
  }

  private int headType(int page) {
    return (state[page] & UNMOVABLE_BIT) != 0 ? UNMOVABLE : MOVABLE;
  }

  private int pageblockOf(int page) {
    int id = blockOf(page);
    return firstPageblock[id] + ((page - firstPage[id]) >> PAGEBLOCK_ORDER);
  }

  private int headOf(int page) {
    int id = blockOf(page);
    int first = firstPage[id];
    int relative = page - first;
    for (int k = 0; k <= MAX_ORDER; k++) {
      int candidate = first + (relative & -(1 << k));
      int s = state[candidate];
      if (s != 0 && (s & ORDER_BITS) >= k) {
        return candidate;
      }
    }
    throw new IllegalStateException("no block holds page " + page + ": allocator state corrupt");
  }

  private String describeBadFree(long address, int page, int order) {
    int head = headOf(page);
    int s = state[head];
    String what = "free(0x" + Long.toHexString(address) + ", order " + order + "): ";
    if ((s & IN_USE) == 0) {
      return what + "double free: the page is already free";
    }
    if (head == page) {
      return what + "wrong order: the block was allocated with order " + (s & ORDER_BITS);
    }
    return what
        + "not the start of an allocated block: it lies inside the order-"
        + (s & ORDER_BITS)
        + " block at 0x"
        + Long.toHexString(address(head));
  }

  private int pageIndex(long address) {
    RamBlock block = memory.blockAt(address);
    if (block == null) {
      throw new IllegalArgumentException(
          "address 0x" + Long.toHexString(address) + " is not in guest memory");
    }
    if ((address & (GuestMemory.PAGE_SIZE - 1)) != 0) {
      throw new IllegalArgumentException(
          "address 0x" + Long.toHexString(address) + " is not page-aligned");
    }
    return firstPage[block.id()]
        + (int) ((address - block.guestAddress()) >>> GuestMemory.PAGE_SHIFT);
  }

  private long address(int page) {
    int id = blockOf(page);
    return blockAddress[id] + ((long) (page - firstPage[id]) << GuestMemory.PAGE_SHIFT);
  }

  private int blockOf(int page) {
    int low = 0;
    int high = firstPage.length - 1;
    while (low < high) {
      int mid = (low + high + 1) >>> 1;
      if (firstPage[mid] <= page) {
        low = mid;
      } else {
        high = mid - 1;
      }
    }
    return low;
  }

  private static void checkOrder(int order) {
    if (order < 0 || order > MAX_ORDER) {
      throw new IllegalArgumentException("order " + order + " is outside [0, " + MAX_ORDER + "]");
    }
  }

  /**
   * Registers a shrinker, as the kernel's {@code register_shrinker}: a function that is asked to
   * give back up to a number of pages it holds and returns how many it freed. The balloon driver
   * registers one for the blocks it holds while hinting.
   */
  public void addShrinker(LongUnaryOperator shrinker) {
    shrinkers.add(Objects.requireNonNull(shrinker, "shrinker"));
  }

  /**
   * Direct reclaim: asks the registered shrinkers, in registration order, for {@code pages} pages
   * until that many were freed. Called by a workload whose allocation failed, without any lock of
   * this allocator held, so shrinkers may free into it.
   *
   * @return the pages the shrinkers freed
   */
  public long reclaim(long pages) {
    long freed = 0;
    for (LongUnaryOperator shrinker : shrinkers) {
      if (freed >= pages) {
        break;
      }
      freed += shrinker.applyAsLong(pages - freed);
    }
    return freed;
  }
}
