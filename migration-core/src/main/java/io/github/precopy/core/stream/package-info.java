/**
 * The migration stream (encoder {@link io.github.precopy.core.stream.MigrationStreamWriter}), the
 * receiving {@link io.github.precopy.core.stream.Destination} and the {@link
 * io.github.precopy.core.stream.InProcessPipe} transport. Every transport carries the same bytes,
 * so the in-process case exercises exactly the encoder and decoder that TCP or a file would.
 *
 * <h2>Stream format, version 1</h2>
 *
 * <p>Modelled on QEMU's RAM section ({@code migration/ram.c}). All integers are big-endian and
 * unsigned unless stated; page size is 4096 bytes.
 *
 * <pre>
 * header:
 *   magic        8 bytes  "PRECOPY\0" (0x50 52 45 43 4F 50 59 00)
 *   version      be32     1
 *   page size    be32     4096
 *   block count  be32     1..4096
 *   per block, in id order (id = index in this table, 0-based):
 *     name length  be16   1..255
 *     name         UTF-8 bytes, no terminator
 *     guest addr   be64   guest-physical address of the block's first byte
 *     used length  be64   bytes, a multiple of the page size
 *
 * records, each starting with a be64 word W = offset | flags:
 *   offset = W &amp; ~0xFFF   byte offset of the page within its block (page-aligned, &lt; used length)
 *   flags  = W &amp;  0xFFF
 *     ZERO      0x02  payload: [block id] u8 fill byte (encoder writes 0; decoder fills with it)
 *     PAGE      0x08  payload: [block id] the 4096 bytes of the page
 *     EOS       0x10  W is exactly 0x10; payload: be64 number of ZERO and PAGE records sent
 *     CONTINUE  0x20  with ZERO or PAGE: same block as the previous record, block id omitted
 *   [block id] = be32 index into the header's block table, present unless CONTINUE is set
 *   exactly one of ZERO, PAGE, EOS per record; any other flag bit is an error
 *
 * the stream ends right after the EOS record.
 * </pre>
 *
 * <p>Sizes: header 20 bytes plus 18 + name bytes per block; ZERO 9 bytes (13 with a block id); PAGE
 * 4104 (4108); EOS 16. Pages the source does not send (hinted free pages) produce no record, and
 * the destination keeps whatever those pages held. Later versions add record kinds (for example a
 * verification digest at the end) under a new version number; a version-1 decoder rejects any other
 * version and any unknown flag.
 *
 * <h2>Validation at the destination</h2>
 *
 * <p>The header must match the destination's memory exactly (block count, order, names, guest
 * addresses, used lengths). A record is rejected with a {@link
 * io.github.precopy.core.stream.MigrationStreamException} naming its index and byte offset when its
 * flags are unknown or contradictory, its block id is outside the table, CONTINUE has no previous
 * block, its offset is not below the block's used length, its payload is truncated, the EOS count
 * differs from the records received, or bytes follow EOS. The decoder never allocates from a length
 * in the stream and treats end of input before EOS as truncation.
 */
package io.github.precopy.core.stream;
