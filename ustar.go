package main

import (
	"archive/tar"
	"strconv"
	"strings"
)

// Where POSIX puts each field of a ustar header.
const (
	ustarName     = 0
	ustarMode     = 100
	ustarUID      = 108
	ustarGID      = 116
	ustarSize     = 124
	ustarMtime    = 136
	ustarChecksum = 148
	ustarTypeflag = 156
	ustarLink     = 157
	ustarMagic    = 257
	ustarUname    = 265
	ustarGname    = 297
	ustarDevMajor = 329
	ustarDevMinor = 337
)

// formatUSTAR writes into blk, a zeroed block, the ustar header that
// archive/tar's Writer writes for h, and reports whether it did. It does
// for the entries of a directory upload that plain ustar holds: ASCII
// names and link targets of at most 100 bytes, sizes and times that fit
// its octal fields; for the rest it writes nothing and returns false, and
// archive/tar writes them (in PAX or GNU form). On a tree of small files
// archive/tar's header took as long as the kernel's open, read and close
// of the file, and left the upload slower than tar -c.
// FuzzFormatUSTAR holds the two to the same bytes.
func formatUSTAR(blk []byte, h *tar.Header) bool {
	// archive/tar rounds the time to whole seconds when no format is set.
	mtime := h.ModTime.Unix()
	if h.ModTime.Nanosecond() >= 5e8 {
		mtime++
	}
	if h.ModTime.IsZero() {
		mtime = 0
	}
	switch {
	case h.Format != tar.FormatUnknown, len(h.PAXRecords) > 0,
		!plainASCII(h.Name, 100), !plainASCII(h.Linkname, 100),
		!plainASCII(h.Uname, 32), !plainASCII(h.Gname, 32),
		!fitsOctal(h.Mode, 8), !fitsOctal(int64(h.Uid), 8), !fitsOctal(int64(h.Gid), 8),
		!fitsOctal(h.Size, 12), !fitsOctal(mtime, 12),
		!fitsOctal(h.Devmajor, 8), !fitsOctal(h.Devminor, 8),
		!ustarKind(h):
		return false
	}
	copy(blk[ustarName:], h.Name)
	putOctal(blk[ustarMode:ustarUID], h.Mode)
	putOctal(blk[ustarUID:ustarGID], int64(h.Uid))
	putOctal(blk[ustarGID:ustarSize], int64(h.Gid))
	putOctal(blk[ustarSize:ustarMtime], h.Size)
	putOctal(blk[ustarMtime:ustarChecksum], mtime)
	blk[ustarTypeflag] = h.Typeflag
	copy(blk[ustarLink:], h.Linkname)
	copy(blk[ustarMagic:], "ustar\x0000")
	copy(blk[ustarUname:], h.Uname)
	copy(blk[ustarGname:], h.Gname)
	putOctal(blk[ustarDevMajor:ustarDevMinor], h.Devmajor)
	putOctal(blk[ustarDevMinor:ustarDevMinor+8], h.Devminor)
	// The checksum counts its own field, still zero here, as spaces.
	sum := int64(8 * ' ')
	for _, b := range blk[:tarBlock] {
		sum += int64(b)
	}
	putOctal(blk[ustarChecksum:ustarChecksum+7], sum)
	blk[ustarChecksum+7] = ' '
	return true
}

// ustarKind reports whether h is a regular file, a directory or a symlink
// as archive/tar takes them: a file's name with no trailing slash, and no
// size but a file's.
func ustarKind(h *tar.Header) bool {
	switch h.Typeflag {
	case tar.TypeReg:
		return !strings.HasSuffix(h.Name, "/")
	case tar.TypeDir, tar.TypeSymlink:
		return h.Size == 0
	}
	return false
}

// plainASCII reports whether s fits a ustar field of size bytes as it is:
// no longer, and ASCII with no NUL, as archive/tar requires of ustar.
func plainASCII(s string, size int) bool {
	if len(s) > size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 || s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// fitsOctal reports whether x fits a numeric field of size bytes: octal
// digits and a NUL.
func fitsOctal(x int64, size int) bool {
	return x >= 0 && x < int64(1)<<(3*(size-1))
}

// putOctal writes x into field as zero-padded octal digits and a NUL.
func putOctal(field []byte, x int64) {
	last := len(field) - 1
	for i := range field[:last] {
		field[i] = '0'
	}
	var digits [24]byte
	s := strconv.AppendInt(digits[:0], x, 8)
	copy(field[last-len(s):last], s)
	field[last] = 0
}
