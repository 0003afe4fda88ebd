package io.github.precopy.core.stream;

import io.github.precopy.core.GuestMemory;
import io.github.precopy.core.RamBlock;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds stream bytes by hand from the documented format, independently of {@link
 * MigrationStreamWriter}, so tests can state exact layouts and hostile variants.
 */
final class StreamBytes {

  static final long MAGIC = 0x505245434F505900L;
  static final int ZERO = 0x02;
  static final int PAGE = 0x08;
  static final int EOS = 0x10;
  static final int CONTINUE = 0x20;

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final DataOutputStream out = new DataOutputStream(bytes);

  /** A correct header for {@code memory}'s blocks. */
  static StreamBytes header(GuestMemory memory) {
    StreamBytes stream = new StreamBytes().u64(MAGIC).u32(1).u32(4096);
    stream.u32(memory.blocks().size());
    for (RamBlock block : memory.blocks()) {
      stream.blockEntry(block.name(), block.guestAddress(), block.usedLength());
    }
    return stream;
  }

  StreamBytes blockEntry(String name, long guestAddress, long usedLength) {
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    return u16(utf8.length).bytes(utf8).u64(guestAddress).u64(usedLength);
  }

  /** A ZERO record naming block {@code id} (no CONTINUE). */
  StreamBytes zero(int id, long page, int fill) {
    return u64(page * 4096 | ZERO).u32(id).u8(fill);
  }

  /** A ZERO record for the previous block. */
  StreamBytes zeroContinue(long page, int fill) {
    return u64(page * 4096 | ZERO | CONTINUE).u8(fill);
  }

  /** A PAGE record naming block {@code id} whose every byte is {@code fill}. */
  StreamBytes page(int id, long page, int fill) {
    byte[] data = new byte[4096];
    Arrays.fill(data, (byte) fill);
    return u64(page * 4096 | PAGE).u32(id).bytes(data);
  }

  StreamBytes eos(long pageRecords) {
    return u64(EOS).u64(pageRecords);
  }

  StreamBytes u8(int value) {
    return run(() -> out.writeByte(value));
  }

  StreamBytes u16(int value) {
    return run(() -> out.writeShort(value));
  }

  StreamBytes u32(int value) {
    return run(() -> out.writeInt(value));
  }

  StreamBytes u64(long value) {
    return run(() -> out.writeLong(value));
  }

  StreamBytes bytes(byte[] value) {
    return run(() -> out.write(value));
  }

  byte[] toByteArray() {
    return bytes.toByteArray();
  }

  private StreamBytes run(IoAction action) {
    try {
      action.run();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  private interface IoAction {
    void run() throws IOException;
  }
}
