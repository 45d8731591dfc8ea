package rules

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
)

// What ADD does with a local file is decided by BuildKit from the file's
// content, never from its name (solver/llbsolver/file/unpack.go, isArchivePath):
// a regular file is unpacked when moby/go-archive's DecompressStream, which
// recognises gzip, bzip2, xz and zstd by their magic numbers, yields a stream
// whose first tar header archive/tar's Reader.Next accepts. Folders, and any
// file that is not regular once links are followed, are copied as they are.
// The functions here answer the same question from the first bytes of a file,
// erring towards "may be an archive".

// tarBlockSize is the size of a tar header, and so the most of a file that
// mayBeArchive needs to see.
const tarBlockSize = 512

// tarExts are the names people give the archives ADD unpacks: tar, bare or
// compressed with gzip, bzip2, xz or zstd. ADD does not go by them; dfopt does
// where it cannot see the content, and it distrusts a file so named whose
// content is no archive, for the build may get another one (a Git LFS pointer
// fetched, a file made before the build).
var tarExts = []string{
	".tar", ".gz", ".tgz", ".taz", ".bz2", ".tbz", ".tbz2", ".tb2",
	".xz", ".txz", ".zst", ".zstd", ".tzst",
}

// hasTarName tells whether a path's last element is named like an archive
// ADD unpacks.
func hasTarName(p string) bool {
	base := strings.ToLower(path.Base(strings.TrimRight(p, "/")))
	for _, ext := range tarExts {
		if strings.HasSuffix(base, ext) {
			return true
		}
	}
	return false
}

// readHead returns the first bytes of a file, as many as mayBeArchive looks
// at: ADD sources are read no further, however large they are.
func readHead(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, tarBlockSize)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return buf[:n], nil
}

// mayBeArchive tells whether ADD may unpack a file that starts with head (its
// first tarBlockSize bytes, or all of it when it is shorter). A compressed
// stream counts as an archive without looking inside it: BuildKit would
// decompress it and look for a tar header, and compressed files that are not
// tar archives are rarely given to ADD. An uncompressed file is one when its
// first block is a tar header archive/tar would read; a shorter file never is.
func mayBeArchive(head []byte) bool {
	return isCompressed(head) || isTarHeader(head)
}

// Magic numbers of the compressed streams BuildKit decompresses before
// looking for a tar header. moby/go-archive also wants gzip's third byte to be
// 8 (deflate); any gzip stream counts here, to err on the safe side.
var (
	gzipMagic  = []byte{0x1f, 0x8b}
	bzip2Magic = []byte("BZh")
	xzMagic    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	zstdMagic  = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// isCompressed tells whether head starts a gzip, bzip2, xz or zstd stream.
// A zstd stream may also open with a skippable frame, whose little-endian
// magic number is any of 0x184D2A50 to 0x184D2A5F (RFC 8878, section 3.1.2);
// go-archive's detection accepts those too.
func isCompressed(head []byte) bool {
	for _, m := range [][]byte{gzipMagic, bzip2Magic, xzMagic, zstdMagic} {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return len(head) >= 4 && binary.LittleEndian.Uint32(head)&0xfffffff0 == 0x184d2a50
}

// isTarHeader tells whether head starts with a block archive/tar takes for a
// header. Go's reader accepts any block whose checksum is right (an old V7
// header has no magic), so that is what is checked: the octal number in the
// checksum field must be the sum of the block's bytes, read as unsigned or as
// signed (old tars used either), with the field itself counted as spaces. A
// block of zeros fails it, as it should: Go reads it as the end of an archive.
// Go's reader may still reject a header that passes (a bad size, a PAX record
// it cannot read); then BuildKit copies the file as it is and dfopt merely
// leaves an ADD that COPY could have been.
func isTarHeader(head []byte) bool {
	if len(head) < tarBlockSize {
		return false
	}
	const chksumStart, chksumEnd = 148, 156
	field := bytes.Trim(head[chksumStart:chksumEnd], " \x00")
	if i := bytes.IndexByte(field, 0); i >= 0 {
		field = field[:i]
	}
	var want int64
	if len(field) > 0 {
		n, err := strconv.ParseUint(string(field), 8, 64)
		if err != nil {
			return false
		}
		want = int64(n)
	}
	var unsigned, signed int64
	for i, b := range head[:tarBlockSize] {
		if i >= chksumStart && i < chksumEnd {
			b = ' '
		}
		unsigned += int64(b)
		signed += int64(int8(b))
	}
	return want == unsigned || want == signed
}
