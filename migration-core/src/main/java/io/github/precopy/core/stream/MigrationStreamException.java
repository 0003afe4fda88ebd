package io.github.precopy.core.stream;

/**
 * A migration stream is malformed: bad header, a record the destination must not apply, a
 * truncation, or bytes after the end of stream. The message names the place ({@code header} or
 * {@code record N}, and the byte offset) and what is wrong.
 *
 * <p>It is an {@link java.io.IOException} because it is found while reading a stream, next to the
 * transport's own I/O errors, so callers handle both with one catch and can still tell them apart.
 */
public final class MigrationStreamException extends java.io.IOException {

  private static final long serialVersionUID = 1L;

  private final long byteOffset;
  private final long recordIndex;

  public MigrationStreamException(String problem, long byteOffset, long recordIndex) {
    super(
        (recordIndex < 0 ? "header" : "record " + recordIndex)
            + " at byte "
            + byteOffset
            + ": "
            + problem);
    this.byteOffset = byteOffset;
    this.recordIndex = recordIndex;
  }

  /** Offset in the stream of the header field or record that is wrong. */
  public long byteOffset() {
    return byteOffset;
  }

  /** Zero-based index of the record that is wrong, or -1 if the header is. */
  public long recordIndex() {
    return recordIndex;
  }
}
