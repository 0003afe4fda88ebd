package io.github.precopy.core.stream;

import static io.github.precopy.core.stream.StreamFormat.FRAME_HEADER_BYTES;
import static io.github.precopy.core.stream.StreamFormat.PRELUDE_BYTES;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * Where one channel's frames go. The encoder fills a buffer with whole records and hands it over
 * with {@link #send}, which frames it (length, CRC32C) and returns the buffer to fill next. The
 * first frame is preceded by the stream's prelude.
 */
interface FrameSink {

  /** The first buffer to fill; its capacity is the largest frame. */
  ByteBuffer firstBuffer();

  /**
   * Sends {@code frame}'s bytes from 0 to its position as one frame, compressed by {@code
   * compression} unless that is null, and returns an empty buffer.
   */
  ByteBuffer send(ByteBuffer frame, FrameCompression compression) throws IOException;

  /** A buffer of {@code bytes} that this sink's channel writes without a copy. */
  ByteBuffer allocate(int bytes);

  /** Returns once every frame handed over so far has been written to the channel. */
  void drain() throws IOException;

  /** Stops any thread of this sink; does not close the channel. */
  void close();

  /**
   * Writes {@code frame}'s bytes from 0 to its position, compressed by {@code compression} unless
   * that is null, as frame {@code index} of the channel, the first after the stream's prelude
   * (magic and version), with a gathering write of header and payload where the channel offers one;
   * clears {@code frame}.
   */
  static void writeFrame(
      WritableByteChannel channel,
      ByteBuffer header,
      ByteBuffer frame,
      FrameCompression compression,
      int index)
      throws IOException {
    frame.flip();
    ByteBuffer payload = compression == null ? frame : compression.compress(frame);
    int length = payload.remaining();
    int checksum = StreamFormat.frameChecksum(index, length, payload.duplicate());
    header.clear();
    if (index == 0) {
      header.putLong(StreamFormat.MAGIC).putInt(StreamFormat.VERSION);
    }
    header.putInt(length).putInt(checksum).flip();
    if (channel instanceof GatheringByteChannel gathering) {
      ByteBuffer[] both = {header, payload};
      while (header.hasRemaining() || payload.hasRemaining()) {
        gathering.write(both);
      }
    } else {
      while (header.hasRemaining()) {
        channel.write(header);
      }
      while (payload.hasRemaining()) {
        channel.write(payload);
      }
    }
    frame.clear();
  }

  /**
   * A frame buffer for {@code channel}: on the heap for a stream, which takes a heap array without
   * a copy; direct otherwise, which a socket or file channel writes without a copy.
   */
  static ByteBuffer frameBuffer(WritableByteChannel channel, int bytes) {
    return channel instanceof OutputStreamChannel
        ? ByteBuffer.allocate(bytes)
        : ByteBuffer.allocateDirect(bytes);
  }

  /** A direct buffer for the header of a frame, and the prelude before the first. */
  static ByteBuffer headerBuffer() {
    return ByteBuffer.allocateDirect(PRELUDE_BYTES + FRAME_HEADER_BYTES);
  }
}
