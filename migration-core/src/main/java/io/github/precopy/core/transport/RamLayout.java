package io.github.precopy.core.transport;

import io.github.precopy.core.memory.GuestMemory;
import io.github.precopy.core.memory.RamBlock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The RAM block layout of a guest: each block's name, guest-physical address and used length, in
 * block id order. A destination's memory must have exactly the source's layout; a stream and a
 * snapshot carry it in their header, so {@link IncomingMigration#layoutOf} can build the memory to
 * restore a snapshot into without being told its size.
 *
 * @param blocks the blocks in id order; at least one, unique non-empty names, page-aligned,
 *     positive whole pages, no two overlapping
 */
public record RamLayout(List<Block> blocks) {

  /**
   * One RAM block of a layout.
   *
   * @param name the block's name, e.g. {@code pc.ram}
   * @param guestAddress the guest-physical address of its first byte
   * @param usedLength its size in bytes, a whole number of pages
   */
  public record Block(String name, long guestAddress, long usedLength) {

    /** Checks that the name is present. */
    public Block {
      Objects.requireNonNull(name, "name");
    }
  }

  /**
   * Copies and checks the blocks.
   *
   * @throws IllegalArgumentException naming the first block that no {@link GuestMemory} can have
   */
  public RamLayout {
    blocks = List.copyOf(blocks);
    if (blocks.isEmpty()) {
      throw new IllegalArgumentException("a RAM layout needs at least one block");
    }
    Set<String> names = new HashSet<>();
    long total = 0;
    for (Block block : blocks) {
      if (block.name().isEmpty() || !names.add(block.name())) {
        throw new IllegalArgumentException(
            "RAM block name '" + block.name() + "' is empty or given twice");
      }
      if (block.usedLength() <= 0
          || block.usedLength() % GuestMemory.PAGE_SIZE != 0
          || block.guestAddress() < 0
          || block.guestAddress() % GuestMemory.PAGE_SIZE != 0
          || block.guestAddress() > Long.MAX_VALUE - block.usedLength()) {
        throw new IllegalArgumentException(
            "RAM block "
                + block.name()
                + " at 0x"
                + Long.toHexString(block.guestAddress())
                + " of "
                + Long.toUnsignedString(block.usedLength())
                + " bytes is not page-aligned whole pages below 2^63");
      }
      total += block.usedLength();
      if (total < 0) {
        throw new IllegalArgumentException("RAM blocks add up to 2^63 bytes or more");
      }
    }
    List<Block> byAddress = new ArrayList<>(blocks);
    byAddress.sort(Comparator.comparingLong(Block::guestAddress));
    for (int i = 1; i < byAddress.size(); i++) {
      Block previous = byAddress.get(i - 1);
      if (previous.guestAddress() + previous.usedLength() > byAddress.get(i).guestAddress()) {
        throw new IllegalArgumentException(
            "RAM blocks " + previous.name() + " and " + byAddress.get(i).name() + " overlap");
      }
    }
  }

  /** The layout of {@code memory}. */
  public static RamLayout of(GuestMemory memory) {
    List<Block> blocks = new ArrayList<>();
    for (RamBlock block : memory.blocks()) {
      blocks.add(new Block(block.name(), block.guestAddress(), block.usedLength()));
    }
    return new RamLayout(blocks);
  }

  /** The size of all blocks together, in bytes. */
  public long totalBytes() {
    long total = 0;
    for (Block block : blocks) {
      total += block.usedLength();
    }
    return total;
  }

  /**
   * Maps a fresh anonymous (zeroed) memory of this layout, as {@link GuestMemory#builder()} would
   * with one {@code anonymousBlock} per block; the caller closes it.
   */
  public GuestMemory newMemory() {
    return newMemory(GuestMemory.builder());
  }

  /**
   * Adds one {@code anonymousBlock} per block of this layout to {@code builder} (which may, e.g.,
   * ask for {@linkplain GuestMemory.Builder#transparentHugePages() huge pages}) and builds it; the
   * caller closes the memory.
   */
  public GuestMemory newMemory(GuestMemory.Builder builder) {
    for (Block block : blocks) {
      builder.anonymousBlock(block.name(), block.guestAddress(), block.usedLength());
    }
    return builder.build();
  }

  /** E.g. "pc.ram: 33554432 bytes at 0x0". */
  @Override
  public String toString() {
    return blocks.stream()
        .map(
            block ->
                block.name()
                    + ": "
                    + block.usedLength()
                    + " bytes at 0x"
                    + Long.toHexString(block.guestAddress()))
        .collect(Collectors.joining(", "));
  }
}
