/**
 * Internal: the migration stream's wire format, its encoder {@link
 * io.github.precopy.core.stream.MigrationStreamWriter} and decoder {@link
 * io.github.precopy.core.stream.MigrationStreamReader}. Every transport (the in-process pipe, TCP,
 * TLS, a snapshot file) carries the same bytes, so the in-process case exercises exactly the
 * encoder and decoder that the others use. Not API: code outside {@code migration-core} must not
 * use these types; the format itself, below, is the contract.
 *
 * <h2>Stream format, version 2</h2>
 *
 * <p>Modelled on QEMU's RAM section ({@code migration/ram.c}), with integrity checks QEMU leaves to
 * the transport. All integers are big-endian and unsigned unless stated; page size is 4096 bytes. A
 * migration uses one or more channels (QEMU's multifd); each channel is a byte stream of this form:
 *
 * <pre>
 * prelude (the only bytes outside a frame):
 *   magic        8 bytes  "PRECOPY\0" (0x50 52 45 43 4F 50 59 00)
 *   version      be32     2
 * frames, until the end of the channel:
 *   length       be32     1..1048576, bytes of payload
 *   checksum     be32     CRC32C (Castagnoli) of the be32 index of the frame in its channel
 *                         (0 for the first), the 4 length bytes and the payload
 *   payload      whole units below; a unit never spans two frames; with a frame codec, every
 *                frame after the header's holds its units compressed by that codec, and
 *                decompresses to 1..1048576 bytes
 *
 * units, in order, in the concatenated payloads:
 *   header:
 *     page size    be32   4096
 *     migration id be64   the same on every channel of one migration
 *     channel      be16   this channel's index, 0-based
 *     channels     be16   1..64, the channel count
 *     block count  be32   1..4096
 *     CODECS, only if the stream uses a codec (in the same unit):
 *       word         be64   exactly 0x100
 *       page codecs  u8     0..16, each then u8 length 1..63 and its name, ASCII [a-z0-9][a-z0-9-]*
 *                           (the capability of the plugin whose page codec it is), distinct; the
 *                           codec id of an ENCODED record is an index into this list
 *       frame codec  u8     length 0..63 and its name (e.g. zstd); 0: frames are not compressed
 *                           the unit names at least one codec; with a frame codec, the header
 *                           ends its frame
 *     per block, in id order (id = index in this table, 0-based), each entry one unit:
 *       name length  be16   1..255
 *       name         UTF-8 bytes, no terminator
 *       guest addr   be64   guest-physical address of the block's first byte
 *       used length  be64   bytes, a multiple of the page size
 *   records, each starting with a be64 word W = offset | flags:
 *     offset = W &amp; ~0xFFF   byte offset of the page within its block (&lt; used length)
 *     flags  = W &amp;  0xFFF
 *       ZERO      0x02  [block id] u8 fill byte (encoder writes 0; decoder fills with it)
 *       PAGE      0x08  [block id] the 4096 bytes of the page
 *       ENCODED   0x80  [block id] u8 codec id, be16 length 1..4095, then that many bytes: the
 *                       page as that codec encoded it against the page the destination holds
 *       DIGEST    0x40  [block id] be64 mask, then be32 CRC32C of each page whose mask bit is set,
 *                       in bit order; bit i is the page at offset + i * 4096; the offset is a
 *                       multiple of 64 pages, the mask is not 0 and names no page past the block
 *       EOS       0x10  W is exactly 0x10; be64 ZERO, PAGE and ENCODED records and be64 pages digested,
 *                       on this channel
 *       CONTINUE  0x20  with ZERO, PAGE, ENCODED or DIGEST: same block as the channel's previous record,
 *                       block id omitted
 *     [block id] = be32 index into the header's block table, present unless CONTINUE is set
 *     exactly one of ZERO, PAGE, ENCODED, DIGEST, EOS per record; any other flag bit is an error
 *
 * the channel ends right after the frame holding its EOS record, which is that frame's last unit.
 * </pre>
 *
 * <p>Pages are split across channels in stripes of 64 pages: page p of the block with id b travels
 * on channel ((p / 64) + b) mod channels, always, so a page's last record on its channel is its
 * newest and the channels need no ordering between them. A DIGEST record covers one stripe and
 * travels on that stripe's channel, after every page record of it. The source writes DIGEST
 * records, when it verifies, after its last page, for the pages the guest had in use at
 * switch-over; the destination compares each with the page it holds.
 *
 * <p>Sizes: prelude 12 bytes; frame header 8; channel header 20 plus 18 + name bytes per block;
 * ZERO 9 bytes (13 with a block id); PAGE 4104 (4108); ENCODED 11 + length (15 + length); DIGEST 16
 * + 4 per page (20 + 4 per page); EOS 24; CODECS 10 + 1 + name bytes per codec. Pages the source
 * does not send (hinted free pages, pages a page codec found unchanged) produce no record, and the
 * destination keeps whatever those pages held. A stream that uses no codec has no CODECS unit and
 * is byte for byte what it was before codecs existed.
 *
 * <h2>Codecs</h2>
 *
 * <p>A page codec (QEMU's XBZRLE is one) is a plugin's: the source sends a page it sent before as
 * an ENCODED record against the copy the destination holds, which the destination decodes with the
 * plugin of the same capability. A frame codec (QEMU's multifd compression) compresses each frame
 * after the header on its own; the checksum covers the compressed bytes that travel, so corruption
 * is caught before anything is decompressed, and decompression is bounded by the largest frame. A
 * destination that lacks a plugin the header names refuses the stream after the header, before any
 * record.
 *
 * <h2>Validation at the destination</h2>
 *
 * <p>A frame is read whole and its checksum checked before any of its units is decoded, so a
 * corrupted frame is never applied; a frame that is moved, repeated or dropped fails its checksum
 * because the index is in it. Over plain TCP the destination reads the payload of a PAGE record in
 * an uncompressed frame straight into its page of guest RAM, once the record's word and block id
 * have been read and checked (block, offset, channel, room in the frame), and computes the checksum
 * over those bytes where they landed; the frame's records are still decoded and applied, and
 * counted, only once its checksum holds, so a corrupted frame may leave bytes in a page but never a
 * page reported as received. CRC32C detects every error of up to 32 consecutive bits, so a
 * corrupted byte of a payload or checksum is always caught; a corrupted length shifts the frame's
 * end, which the checksum (and then the next frame header) catches but for a 2<sup>-32</sup>
 * chance. The header must match the destination's memory exactly (block count, order, names, guest
 * addresses, used lengths), and all channels must carry the same migration id and channel count,
 * each index once. A record is rejected with a {@link
 * io.github.precopy.core.stream.MigrationStreamException} naming its index and byte offset when its
 * flags are unknown or contradictory, its block id is outside the table, CONTINUE has no previous
 * block, its offset is not below the block's used length, its page belongs to another channel, a
 * DIGEST is misaligned or its mask empty or out of the block, an ENCODED record names a codec the
 * header did not or has a length out of range, its encoding does not decode, a compressed frame
 * does not decompress or decompresses past 1 MiB, a unit runs past its frame, the EOS counts differ
 * from what the channel held, or bytes follow EOS. The decoder never allocates from a length in the
 * stream and treats end of input before EOS as truncation.
 */
package io.github.precopy.core.stream;
