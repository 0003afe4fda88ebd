package io.github.precopy.core.stream;

/**
 * What a {@link Destination} received.
 *
 * @param completed whether the whole stream was applied: header accepted, end-of-stream record seen
 *     with a matching page count, and nothing after it; false whenever {@code failure} is set
 * @param normalPages PAGE records applied
 * @param zeroPages ZERO records applied (QEMU's "duplicate")
 * @param bytesRead stream bytes decoded, header and end-of-stream record included
 * @param failure why the stream was rejected or the transport failed, or null if it completed
 */
public record DestinationReport(
    boolean completed, long normalPages, long zeroPages, long bytesRead, String failure) {}
