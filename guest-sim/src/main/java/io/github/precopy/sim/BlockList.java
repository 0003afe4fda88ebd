package io.github.precopy.sim;

import io.github.precopy.core.memory.GuestMemory;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The blocks one owner (a process, a vCPU's share of a working set) holds, in allocation order,
 * with a running page count so that a random page is picked in O(log n) with every page equally
 * likely. Not thread-safe.
 */
final class BlockList {

  private long[] blocks = new long[16];
  private long[] pagesBefore = new long[16];
  private int size;
  private long pages;

  /**
   * Allocates a block of {@code order}, or of the largest smaller order the allocator still has,
   * and appends it.
   *
   * @return the order of the block allocated, or -1 if not even one page is free
   */
  int allocate(BuddyAllocator allocator, int order) {
    for (int k = order; k >= 0; k--) {
      long address = allocator.allocate(k);
      if (address >= 0) {
        add(address, k);
        return k;
      }
    }
    return -1;
  }

  /** Appends the block of {@code order} at {@code address}. */
  void add(long address, int order) {
    if (size == blocks.length) {
      blocks = Arrays.copyOf(blocks, size * 2);
      pagesBefore = Arrays.copyOf(pagesBefore, size * 2);
    }
    blocks[size] = address | order;
    pagesBefore[size] = pages;
    size++;
    pages += 1L << order;
  }

  /** Appends every block of {@code other}. */
  void addAll(BlockList other) {
    for (int i = 0; i < other.size; i++) {
      add(other.address(i), other.order(i));
    }
  }

  int size() {
    return size;
  }

  /** Total pages of the blocks. */
  long pages() {
    return pages;
  }

  long address(int i) {
    return blocks[i] & -GuestMemory.PAGE_SIZE;
  }

  int order(int i) {
    return (int) (blocks[i] & (GuestMemory.PAGE_SIZE - 1));
  }

  /** Address of the {@code n}-th page counted over the blocks in order. */
  long pageAddress(long n) {
    int low = 0;
    int high = size - 1;
    while (low < high) {
      int mid = (low + high + 1) >>> 1;
      if (pagesBefore[mid] <= n) {
        low = mid;
      } else {
        high = mid - 1;
      }
    }
    return address(low) + ((n - pagesBefore[low]) << GuestMemory.PAGE_SHIFT);
  }

  /** A page chosen uniformly among all pages of the blocks; the list must not be empty. */
  long randomPage(SplittableRandom random) {
    return pageAddress(random.nextLong(pages));
  }

  /** Frees every block and empties the list. */
  void freeAll(BuddyAllocator allocator) {
    for (int i = 0; i < size; i++) {
      allocator.free(address(i), order(i));
    }
    size = 0;
    pages = 0;
  }
}
