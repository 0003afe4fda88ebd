package io.github.precopy.core.stream;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/** Writes each frame on the caller's thread; one buffer. */
final class DirectFrameSink implements FrameSink {

  private final WritableByteChannel channel;
  private final ByteBuffer header = FrameSink.headerBuffer();
  private final ByteBuffer buffer;
  private int frames;

  DirectFrameSink(WritableByteChannel channel, int bufferBytes) {
    this.channel = channel;
    this.buffer = FrameSink.frameBuffer(channel, bufferBytes);
  }

  @Override
  public ByteBuffer firstBuffer() {
    return buffer;
  }

  @Override
  public ByteBuffer send(ByteBuffer frame, FrameCompression compression) throws IOException {
    FrameSink.writeFrame(channel, header, frame, compression, frames++);
    return frame;
  }

  @Override
  public ByteBuffer allocate(int bytes) {
    return FrameSink.frameBuffer(channel, bytes);
  }

  @Override
  public void drain() {}

  @Override
  public void close() {}
}
