package filestore

import (
	"encoding/binary"
	"hash/fnv"
	"os"
)

// bbolt's meta page, as far as needed to know how long the file must be:
// after a page header of 16 bytes come magic, version, page size, flags
// (4 bytes each), the root bucket (16), the freelist's page, the high
// water mark (the number of pages in use), the transaction id (8 each)
// and an FNV-1a checksum of all before it, in the machine's byte order.
const (
	metaAt       = 16
	metaMagic    = 0xED0CDAED
	metaVersion  = 2
	metaChecksum = 56 // offset of the checksum in the meta
)

// pagesLength returns the length in bytes of the pages a bbolt file
// uses, by the newest valid of its two meta pages, the one bbolt will
// read: a shorter file is truncated, and bbolt would read past its end.
// ok is false when the file has no valid meta page; bbolt refuses it
// then.
func pagesLength(f *os.File, size int64) (length int64, ok bool) {
	var newest uint64
	// Page 0 is at offset 0; page 1 at the page size, which is a power
	// of two between 1 KiB and 16 MiB, as bbolt looks for it.
	offsets := []int64{0}
	for pos := int64(1024); pos <= 16<<20 && pos+metaAt+metaChecksum+8 <= size; pos *= 2 {
		offsets = append(offsets, pos)
	}
	for _, off := range offsets {
		var m [metaChecksum + 8]byte
		if _, err := f.ReadAt(m[:], off+metaAt); err != nil {
			continue
		}
		e := binary.NativeEndian
		h := fnv.New64a()
		h.Write(m[:metaChecksum])
		pageSize := int64(e.Uint32(m[8:]))
		if e.Uint32(m[0:]) != metaMagic || e.Uint32(m[4:]) != metaVersion ||
			e.Uint64(m[metaChecksum:]) != h.Sum64() || (off != 0 && off != pageSize) {
			continue
		}
		if txid := e.Uint64(m[48:]); !ok || txid > newest {
			newest, length, ok = txid, int64(e.Uint64(m[40:]))*pageSize, true
		}
	}
	return length, ok
}
