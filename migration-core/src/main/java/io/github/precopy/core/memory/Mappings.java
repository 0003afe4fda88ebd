package io.github.precopy.core.memory;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

/**
 * How one {@link GuestMemory} maps its files and releases them when it is closed, so that tmpfs
 * pages are freed at once rather than at garbage collection.
 *
 * <ul>
 *   <li>JDK 22 and later: every chunk is mapped into one shared {@code java.lang.foreign.Arena},
 *       and closing the arena unmaps them all. A thread that still touches the memory afterwards
 *       gets an {@link IllegalStateException}, never a crash, and no internal API is used.
 *   <li>JDK 17 to 21: plain mappings, each released through {@code sun.misc.Unsafe.invokeCleaner}
 *       (on JDK 24 and later that method prints a deprecation warning, hence the arena there).
 * </ul>
 *
 * The project builds for Java 17, so the JDK 22 API is called reflectively. Not thread-safe: the
 * owning memory maps while it is built and releases once.
 */
abstract class Mappings {

  /** Maps {@code size} bytes of {@code channel} from {@code position}, read-write. */
  abstract MappedByteBuffer map(FileChannel channel, long position, long size) throws IOException;

  /** Releases every mapping made here; none may be used afterwards. */
  abstract void release(Iterable<RamBlock> blocks);

  /** The mappings for a new memory on this JDK. */
  static Mappings create() {
    return Runtime.version().feature() >= 22 && ArenaMappings.AVAILABLE
        ? new ArenaMappings()
        : new CleanerMappings();
  }

  /** JDK 22+: one shared arena per memory. */
  private static final class ArenaMappings extends Mappings {
    private static final Method OF_SHARED;
    private static final Method MAP;
    private static final Method AS_BYTE_BUFFER;
    private static final Method CLOSE;
    static final boolean AVAILABLE;

    static {
      Method ofShared = null;
      Method map = null;
      Method asByteBuffer = null;
      Method close = null;
      try {
        Class<?> arena = Class.forName("java.lang.foreign.Arena");
        Class<?> segment = Class.forName("java.lang.foreign.MemorySegment");
        ofShared = arena.getMethod("ofShared");
        map =
            FileChannel.class.getMethod(
                "map", FileChannel.MapMode.class, long.class, long.class, arena);
        asByteBuffer = segment.getMethod("asByteBuffer");
        close = arena.getMethod("close");
      } catch (ReflectiveOperationException e) {
        ofShared = null;
      }
      OF_SHARED = ofShared;
      MAP = map;
      AS_BYTE_BUFFER = asByteBuffer;
      CLOSE = close;
      AVAILABLE = ofShared != null;
    }

    private final Object arena;

    ArenaMappings() {
      this.arena = invoke(OF_SHARED, null);
    }

    @Override
    MappedByteBuffer map(FileChannel channel, long position, long size) throws IOException {
      try {
        Object segment = MAP.invoke(channel, FileChannel.MapMode.READ_WRITE, position, size, arena);
        return (MappedByteBuffer) AS_BYTE_BUFFER.invoke(segment);
      } catch (InvocationTargetException e) {
        if (e.getCause() instanceof IOException io) {
          throw io;
        }
        throw new IllegalStateException("cannot map guest memory", e.getCause());
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("cannot map guest memory", e);
      }
    }

    @Override
    void release(Iterable<RamBlock> blocks) {
      invoke(CLOSE, arena);
    }

    private static Object invoke(Method method, Object target) {
      try {
        return method.invoke(target);
      } catch (InvocationTargetException e) {
        if (e.getCause() instanceof RuntimeException runtime) {
          throw runtime;
        }
        throw new IllegalStateException(method + " failed", e.getCause());
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(method + " is not accessible", e);
      }
    }
  }

  /** JDK 17 to 21: each mapping released through {@code sun.misc.Unsafe.invokeCleaner}. */
  private static final class CleanerMappings extends Mappings {
    private static final Object UNSAFE = unsafe();

    @Override
    MappedByteBuffer map(FileChannel channel, long position, long size) throws IOException {
      return channel.map(FileChannel.MapMode.READ_WRITE, position, size);
    }

    @Override
    void release(Iterable<RamBlock> blocks) {
      if (UNSAFE == null) {
        return;
      }
      for (RamBlock block : blocks) {
        if (block.backing() == null) {
          continue; // Not mapped here: the application's memory, or huge pages (JDK 22+).
        }
        for (ByteBuffer chunk : block.chunks()) {
          try {
            UNSAFE.getClass().getMethod("invokeCleaner", ByteBuffer.class).invoke(UNSAFE, chunk);
          } catch (ReflectiveOperationException e) {
            return; // The mappings are then released when the buffers are collected.
          }
        }
      }
    }

    private static Object unsafe() {
      try {
        Class<?> type = Class.forName("sun.misc.Unsafe");
        Field field = type.getDeclaredField("theUnsafe");
        field.setAccessible(true);
        return field.get(null);
      } catch (ReflectiveOperationException | RuntimeException e) {
        return null;
      }
    }
  }
}
