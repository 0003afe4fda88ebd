package io.github.precopy.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.precopy.bitmap.PageBitmap;
import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

final class BuddyAllocatorTest {

  private static final int PAGE = GuestMemory.PAGE_SIZE;
  private static final long MAX_BLOCK_BYTES = (long) PAGE << BuddyAllocator.MAX_ORDER;

  private GuestMemory memory;
  private BuddyAllocator allocator;

  /** Three RAM blocks whose bases are not 4 MiB aligned and whose sizes are not 4 MiB multiples. */
  @BeforeEach
  void setUp() {
    memory =
        GuestMemory.builder()
            .anonymousBlock("low", 0, (5L << 20) + 3 * PAGE)
            .anonymousBlock("mid", 0x807000, 8L << 20)
            .anonymousBlock("high", 0x2001000, (1L << 20) + PAGE)
            .build();
    allocator = new BuddyAllocator(memory);
  }

  @AfterEach
  void tearDown() {
    memory.close();
  }

  @Test
  void randomAllocationsAndFreesMatchASimpleOracle() {
    long seed = new SplittableRandom().nextLong();
    System.out.println("BuddyAllocatorTest oracle seed: " + seed);
    SplittableRandom random = new SplittableRandom(seed);
    Oracle oracle = new Oracle(memory);
    List<long[]> held = new ArrayList<>();
    for (int op = 0; op < 30_000; op++) {
      if (held.isEmpty() || random.nextInt(100) < 55) {
        int order = random.nextInt(100) < 70 ? random.nextInt(4) : random.nextInt(11);
        long address = allocator.allocate(order);
        if (address < 0) {
          assertThat(oracle.hasFreeAlignedRun(order))
              .as("seed %d op %d: allocate(%d) failed although a free run exists", seed, op, order)
              .isFalse();
        } else {
          oracle.allocate(address, order, seed, op);
          held.add(new long[] {address, order});
        }
      } else {
        long[] block = held.remove(random.nextInt(held.size()));
        allocator.free(block[0], (int) block[1]);
        oracle.free(block[0], (int) block[1]);
      }
      assertThat(allocator.freePages()).isEqualTo(oracle.freePages());
      if (op % 1000 == 0) {
        assertConsistent(oracle, random);
      }
    }
    assertConsistent(oracle, random);
    while (!held.isEmpty()) {
      long[] block = held.remove(random.nextInt(held.size()));
      allocator.free(block[0], (int) block[1]);
    }
    assertFullyCoalesced();
  }

  @Test
  void maxOrderBlocksAreAlignedToTheirRamBlockAndNeverCrossIt() {
    List<Long> addresses = new ArrayList<>();
    long address;
    while ((address = allocator.allocate(BuddyAllocator.MAX_ORDER)) >= 0) {
      addresses.add(address);
    }
    long expected = 0;
    for (RamBlock block : memory.blocks()) {
      expected += block.pageCount() >> BuddyAllocator.MAX_ORDER;
    }
    assertThat(addresses).hasSize((int) expected);
    for (long a : addresses) {
      RamBlock block = memory.blockAt(a);
      assertThat((a - block.guestAddress()) % MAX_BLOCK_BYTES).isZero();
      assertThat(block.contains(a + MAX_BLOCK_BYTES - 1)).isTrue();
    }
  }

  @Test
  void theSmallestSufficientOrderIsUsedFirstAndInitialBlocksLowestAddressFirst() {
    // "low" (1283 pages) starts as blocks of orders 10, 8, 1, 0; "high" (257 pages) of 8, 0.
    assertThat(allocator.allocate(BuddyAllocator.MAX_ORDER)).isEqualTo(0);
    assertThat(allocator.allocate(0)).isEqualTo(1282L * PAGE);
    assertThat(allocator.allocate(0)).isEqualTo(0x2001000 + 256L * PAGE);
    assertThat(allocator.allocate(0)).isEqualTo(1280L * PAGE);
    assertThat(allocator.allocate(0)).isEqualTo(1281L * PAGE);
  }

  @Test
  void aFreedBlockIsTheNextOneHandedOut() {
    long first = allocator.allocate(2);
    allocator.allocate(2);
    allocator.free(first, 2);
    assertThat(allocator.allocate(2)).isEqualTo(first);
  }

  @Test
  void allocationFailsWhenNoBlockIsLargeEnough() {
    try (GuestMemory small = GuestMemory.anonymous(2L << 20)) {
      BuddyAllocator buddy = new BuddyAllocator(small);
      assertThat(buddy.allocate(BuddyAllocator.MAX_ORDER)).isEqualTo(-1);
      assertThat(buddy.allocate(9)).isEqualTo(0);
      assertThat(buddy.allocate(9)).isEqualTo(-1);
      assertThat(buddy.allocate(0)).isEqualTo(-1);
      assertThat(buddy.freePages()).isZero();
    }
  }

  @Test
  void freeingABlockTwiceIsRejectedWithAClearMessage() {
    long address = allocator.allocate(3);
    allocator.free(address, 3);
    assertThatThrownBy(() -> allocator.free(address, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("double free")
        .hasMessageContaining("0x" + Long.toHexString(address));
    assertThat(allocator.freePages()).isEqualTo(allocator.totalPages());
  }

  @Test
  void freeingWithTheWrongOrderIsRejected() {
    long address = allocator.allocate(3);
    assertThatThrownBy(() -> allocator.free(address, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("wrong order")
        .hasMessageContaining("allocated with order 3");
    allocator.free(address, 3);
  }

  @Test
  void freeingAnAddressInsideAnAllocatedBlockIsRejected() {
    long address = allocator.allocate(3);
    assertThatThrownBy(() -> allocator.free(address + PAGE, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not the start of an allocated block")
        .hasMessageContaining("order-3 block at 0x" + Long.toHexString(address));
  }

  @Test
  void addressesOutsideGuestMemoryUnalignedOrWithABadOrderAreRejected() {
    long address = allocator.allocate(0);
    assertThatThrownBy(() -> allocator.free(0x600000, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not in guest memory");
    assertThatThrownBy(() -> allocator.free(address + 8, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not page-aligned");
    assertThatThrownBy(() -> allocator.allocate(11))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("order 11 is outside [0, 10]");
    assertThatThrownBy(() -> allocator.free(address, -1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> allocator.isAllocated(0x600000))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void discardableBlocksAreAllocatedButNotInUse() {
    long kept = allocator.allocate(1);
    long hint = allocator.allocateDiscardable(BuddyAllocator.MAX_ORDER);
    RamBlock block = memory.blockAt(hint);
    PageBitmap inUse = allocator.pagesInUse(block);
    assertThat(allocator.isAllocated(hint)).isTrue();
    assertThat(inUse.cardinality()).isEqualTo(block == memory.blockAt(kept) ? 2 : 0);
    assertThat(allocator.freePages())
        .isEqualTo(allocator.totalPages() - 2 - (1L << BuddyAllocator.MAX_ORDER));
    allocator.free(hint, BuddyAllocator.MAX_ORDER);
    assertThat(allocator.isAllocated(hint)).isFalse();
  }

  @Test
  void freedPagesKeepTheirStaleContents() {
    long address = allocator.allocate(3);
    memory.writeLong(address, 0x1234_5678_9abcL);
    allocator.free(address, 3);
    assertThat(allocator.allocate(3)).isEqualTo(address);
    assertThat(memory.readLong(address)).isEqualTo(0x1234_5678_9abcL);
  }

  @Test
  void withInitOnAllocEveryKindOfAllocationIsZeroedAndDirtied() {
    for (RamBlock ram : memory.blocks()) {
      memory.fill(ram.guestAddress(), ram.usedLength(), (byte) 0x5a);
    }
    allocator.initOnAlloc(true);
    GuestProbe.drainDirty(memory);

    long[][] blocks = {
      {allocator.allocate(3), 3},
      {allocator.allocateUnmovable(2), 2},
      {allocator.allocateDiscardable(BuddyAllocator.MAX_ORDER), BuddyAllocator.MAX_ORDER}
    };

    PageBitmap[] dirty = GuestProbe.drainDirty(memory);
    long pages = 0;
    for (long[] block : blocks) {
      RamBlock ram = memory.blockAt(block[0]);
      long first = (block[0] - ram.guestAddress()) / PAGE;
      for (long page = 0; page < 1L << block[1]; page++) {
        long address = block[0] + page * PAGE;
        assertThat(memory.readLong(address) | memory.readLong(address + PAGE - 8))
            .as("page at 0x%x", address)
            .isZero();
        assertThat(dirty[ram.id()].get(first + page)).as("page at 0x%x dirty", address).isTrue();
      }
      pages += 1L << block[1];
    }
    assertThat(GuestProbe.cardinality(dirty)).as("nothing else was written").isEqualTo(pages);
  }

  @Test
  void withoutInitOnAllocAnAllocationWritesNothing() {
    long address = allocator.allocateDiscardable(BuddyAllocator.MAX_ORDER);
    memory.writeLong(address, 42);
    allocator.free(address, BuddyAllocator.MAX_ORDER);
    GuestProbe.drainDirty(memory);

    assertThat(allocator.allocateDiscardable(BuddyAllocator.MAX_ORDER)).isEqualTo(address);

    assertThat(memory.readLong(address)).isEqualTo(42);
    assertThat(GuestProbe.cardinality(GuestProbe.drainDirty(memory))).isZero();
  }

  @Test
  void buddyInfoCountsFreeBlocksPerRamBlockAndOrderAsProcBuddyinfo() {
    allocator.allocate(0);
    assertThat(allocator.buddyInfo().lines())
        .containsExactly(
            "Node 0, zone      low      0      1      0      0      0      0      0      0      1"
                + "      0      1 ",
            "Node 0, zone      mid      0      0      0      0      0      0      0      0      0"
                + "      0      2 ",
            "Node 0, zone     high      1      0      0      0      0      0      0      0      1"
                + "      0      0 ");
  }

  @Test
  void aFreedBlockLikelyToMergeIsHandedOutLast() {
    // "low" ends in blocks of order 1 (pages 1280-1281) and 0 (page 1282); page 1282 has no buddy.
    long last = allocator.allocate(0);
    assertThat(last).isEqualTo(1282L * PAGE);
    allocator.free(last, 0);
    // The buddy of its parent (1280-1281) is free, so it goes behind "high"'s last page.
    assertThat(allocator.allocate(0)).isEqualTo(0x2001000 + 256L * PAGE);
    assertThat(allocator.allocate(0)).isEqualTo(last);
  }

  @Test
  void kernelAllocationsClaimAPageblockOfTheirOwnAndStayThere() {
    long kernel = allocator.allocateUnmovable(0);
    long user = allocator.allocate(0);
    long moreKernel = allocator.allocateUnmovable(0);
    long pageblock = (long) PAGE << BuddyAllocator.PAGEBLOCK_ORDER;
    assertThat(kernel / pageblock).as("the kernel took the largest free block").isZero();
    assertThat(moreKernel / pageblock).isEqualTo(kernel / pageblock);
    assertThat(user / pageblock).as("user memory comes from a movable pageblock").isNotZero();
    allocator.free(kernel, 0);
    allocator.free(moreKernel, 0);
    allocator.free(user, 0);
    assertFullyCoalesced();
  }

  @Test
  void aRamBlockOfAnotherGuestIsRejected() {
    try (GuestMemory other = GuestMemory.anonymous(1L << 20)) {
      assertThatThrownBy(() -> allocator.pagesInUse(other.blocks().get(0)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("not a RAM block of this guest");
    }
  }

  @Test
  @Timeout(30)
  void concurrentAllocationsAndFreesKeepTheInvariants() throws Exception {
    long seed = new SplittableRandom().nextLong();
    System.out.println("BuddyAllocatorTest concurrency seed: " + seed);
    int threads = 4;
    SplittableRandom root = new SplittableRandom(seed);
    CyclicBarrier barrier = new CyclicBarrier(threads);
    ConcurrentLinkedQueue<long[]> remaining = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      SplittableRandom random = root.split();
      Thread worker =
          new Thread(
              () -> {
                try {
                  barrier.await();
                  List<long[]> held = new ArrayList<>();
                  for (int op = 0; op < 100_000; op++) {
                    if (held.isEmpty() || random.nextBoolean()) {
                      int order = random.nextInt(100) < 90 ? random.nextInt(3) : random.nextInt(11);
                      long address = allocator.allocate(order);
                      if (address >= 0) {
                        held.add(new long[] {address, order});
                      }
                    } else {
                      long[] block = held.remove(random.nextInt(held.size()));
                      allocator.free(block[0], (int) block[1]);
                    }
                  }
                  remaining.addAll(held);
                } catch (Throwable e) {
                  errors.add(e);
                }
              });
      worker.start();
      workers.add(worker);
    }
    for (Thread worker : workers) {
      worker.join();
    }
    assertThat(errors).isEmpty();
    Oracle oracle = new Oracle(memory);
    for (long[] block : remaining) {
      oracle.allocate(block[0], (int) block[1], seed, -1);
    }
    assertThat(allocator.freePages()).isEqualTo(oracle.freePages());
    assertConsistent(oracle, new SplittableRandom(seed));
    for (long[] block : remaining) {
      allocator.free(block[0], (int) block[1]);
    }
    assertFullyCoalesced();
  }

  private void assertConsistent(Oracle oracle, SplittableRandom random) {
    long freeFromLists = 0;
    for (int k = 0; k <= BuddyAllocator.MAX_ORDER; k++) {
      freeFromLists += allocator.freeBlocks(k) << k;
    }
    assertThat(freeFromLists).isEqualTo(allocator.freePages());
    for (RamBlock block : memory.blocks()) {
      PageBitmap inUse = allocator.pagesInUse(block);
      BitSet expected = oracle.used(block);
      assertThat(inUse.cardinality()).isEqualTo(expected.cardinality());
      for (int page = expected.nextSetBit(0); page >= 0; page = expected.nextSetBit(page + 1)) {
        assertThat(inUse.get(page)).isTrue();
      }
      for (int i = 0; i < 50; i++) {
        int page = random.nextInt((int) block.pageCount());
        assertThat(allocator.isAllocated(block.guestAddress() + (long) page * PAGE))
            .isEqualTo(expected.get(page));
      }
    }
  }

  private void assertFullyCoalesced() {
    assertThat(allocator.freePages()).isEqualTo(allocator.totalPages());
    BuddyAllocator fresh = new BuddyAllocator(memory);
    for (int k = 0; k <= BuddyAllocator.MAX_ORDER; k++) {
      assertThat(allocator.freeBlocks(k))
          .as("free blocks of order %d", k)
          .isEqualTo(fresh.freeBlocks(k));
    }
    long maxBlocks = 0;
    for (RamBlock block : memory.blocks()) {
      maxBlocks += block.pageCount() >> BuddyAllocator.MAX_ORDER;
    }
    assertThat(allocator.freeBlocks(BuddyAllocator.MAX_ORDER)).isEqualTo(maxBlocks);
  }

  /** Which pages are allocated, per RAM block, from the blocks handed out. */
  private static final class Oracle {
    private final GuestMemory memory;
    private final Map<RamBlock, BitSet> used = new HashMap<>();
    private long allocatedPages;

    Oracle(GuestMemory memory) {
      this.memory = memory;
      for (RamBlock block : memory.blocks()) {
        used.put(block, new BitSet());
      }
    }

    void allocate(long address, int order, long seed, int op) {
      RamBlock block = memory.blockAt(address);
      assertThat(block).as("seed %d op %d: 0x%x is in guest memory", seed, op, address).isNotNull();
      long offset = address - block.guestAddress();
      long bytes = (long) PAGE << order;
      assertThat(offset % bytes).as("seed %d op %d: alignment of 0x%x", seed, op, address).isZero();
      assertThat(offset + bytes).isLessThanOrEqualTo(block.usedLength());
      int first = (int) (offset / PAGE);
      BitSet pages = used.get(block);
      assertThat(pages.get(first, first + (1 << order)).isEmpty())
          .as(
              "seed %d op %d: block 0x%x order %d overlaps an allocated one",
              seed, op, address, order)
          .isTrue();
      pages.set(first, first + (1 << order));
      allocatedPages += 1L << order;
    }

    void free(long address, int order) {
      RamBlock block = memory.blockAt(address);
      int first = (int) ((address - block.guestAddress()) / PAGE);
      used.get(block).clear(first, first + (1 << order));
      allocatedPages -= 1L << order;
    }

    long freePages() {
      return memory.totalPages() - allocatedPages;
    }

    BitSet used(RamBlock block) {
      return used.get(block);
    }

    /** Whether some RAM block has a fully free run of 2^order pages aligned to its size. */
    boolean hasFreeAlignedRun(int order) {
      int size = 1 << order;
      for (RamBlock block : memory.blocks()) {
        BitSet pages = used.get(block);
        for (int start = 0; start + size <= block.pageCount(); start += size) {
          if (pages.get(start, start + size).isEmpty()) {
            return true;
          }
        }
      }
      return false;
    }
  }
}
