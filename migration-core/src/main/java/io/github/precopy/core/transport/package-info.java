/**
 * Where a migration goes and how it arrives: {@link
 * io.github.precopy.core.transport.MigrationTarget} (TCP on one or more channels, plain or mutual
 * TLS with {@link io.github.precopy.core.transport.Tls}; a snapshot file; a memory in this process;
 * a caller's stream), {@link io.github.precopy.core.transport.TransportOptions}, and the receiving
 * end, {@link io.github.precopy.core.transport.IncomingMigration}, with its {@link
 * io.github.precopy.core.transport.DestinationReport}. The connections, the in-process pipe, the
 * decoding destination and the hello/greeting handshake are package-private.
 */
package io.github.precopy.core.transport;
