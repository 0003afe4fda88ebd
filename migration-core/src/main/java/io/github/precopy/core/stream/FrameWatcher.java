package io.github.precopy.core.stream;

import java.io.IOException;

/**
 * Told by a {@link MigrationStreamReader} where the frames of its input begin and end, so that the
 * transport under it can bound how long one frame may take to arrive (a peer that announces a large
 * frame and then sends a byte now and then is otherwise held up only by the timeout of each single
 * read). Called on the reader's thread.
 */
public interface FrameWatcher {

  /** Watches nothing. */
  FrameWatcher NONE =
      new FrameWatcher() {
        @Override
        public void beforeFrame() {}

        @Override
        public void frameRead() {}
      };

  /** The reader is about to read a frame: its header, then its payload. */
  void beforeFrame() throws IOException;

  /** The reader has read the whole frame (not yet checked). */
  void frameRead() throws IOException;
}
