package rules

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"
)

// tarBytes makes a small tar archive of one file with archive/tar, in the
// given format.
func tarBytes(t testing.TB, format tar.Format, name, body string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Format: format}
	if format == tar.FormatPAX {
		hdr.PAXRecords = map[string]string{"comment": "made by dfopt's tests"}
	}
	if err := w.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// signedChecksum rewrites a header's checksum as the sum of its bytes read as
// signed, as some old tars wrote it, after putting a byte over 0x7f in its name.
func signedChecksum(t testing.TB, block []byte) []byte {
	t.Helper()
	b := bytes.Clone(block[:tarBlockSize])
	b[0] = 0xe9
	var sum int64
	for i, c := range b {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int64(int8(c))
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func TestMayBeArchive(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tarBytes(t, tar.FormatUSTAR, "hostname", "box\n"))
	zw.Close()

	ustar := tarBytes(t, tar.FormatUSTAR, "hostname", "box\n")
	badSum := bytes.Clone(ustar)
	badSum[0] ^= 1
	zeros := make([]byte, 2*tarBlockSize)
	for _, tc := range []struct {
		name string
		head []byte
		want bool
	}{
		{"ustar tar", ustar, true},
		{"gnu tar", tarBytes(t, tar.FormatGNU, "hostname", "box\n"), true},
		{"pax tar", tarBytes(t, tar.FormatPAX, "hostname", "box\n"), true},
		{"tar of an empty file", tarBytes(t, tar.FormatUSTAR, "empty", ""), true},
		{"tar header only", ustar[:tarBlockSize], true},
		{"signed checksum", signedChecksum(t, ustar), true},
		{"checksum wrong by one bit", badSum, false},
		{"tar cut short of a header", ustar[:tarBlockSize-1], false},
		{"zero blocks (an empty archive)", zeros, false},
		{"gzip", gz.Bytes(), true},
		{"gzip magic alone", []byte{0x1f, 0x8b}, true},
		{"gzip, other method", []byte{0x1f, 0x8b, 0x07, 0x00}, true},
		{"bzip2", []byte("BZh91AY&SY"), true},
		{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 0x00, 0x04}, true},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58}, true},
		{"zstd skippable frame", []byte{0x5e, 0x2a, 0x4d, 0x18, 0x04, 0, 0, 0}, true},
		{"half a gzip magic", []byte{0x1f}, false},
		{"half an xz magic", []byte{0xfd, '7', 'z'}, false},
		{"empty file", nil, false},
		{"short text", []byte("hello\n"), false},
		{"text", []byte(strings.Repeat("server_name example.com;\n", 40)), false},
		{"zip", append([]byte("PK\x03\x04"), make([]byte, 600)...), false},
		{"lz4", []byte{0x04, 0x22, 0x4d, 0x18, 0x64, 0x40}, false},
	} {
		if _, err := tar.NewReader(bytes.NewReader(tc.head)).Next(); err == nil && !tc.want {
			t.Errorf("%s: archive/tar reads a header, the table says no archive", tc.name)
		}
		head := tc.head
		if len(head) > tarBlockSize {
			head = head[:tarBlockSize] // what readHead gives
		}
		if got := mayBeArchive(head); got != tc.want {
			t.Errorf("%s: mayBeArchive = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// FuzzMayBeArchive checks mayBeArchive against archive/tar itself: whatever
// first block Go's reader takes for a tar header, mayBeArchive must take for
// an archive, or dfopt would turn into COPY an ADD that unpacks.
func FuzzMayBeArchive(f *testing.F) {
	f.Add(tarBytes(f, tar.FormatUSTAR, "a", "b"))
	f.Add(tarBytes(f, tar.FormatGNU, "hostname", "box\n"))
	f.Add(tarBytes(f, tar.FormatPAX, strings.Repeat("long/", 40)+"name", ""))
	f.Add(signedChecksum(f, tarBytes(f, tar.FormatUSTAR, "a", "b")))
	f.Add([]byte("hello\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		head := data[:min(len(data), tarBlockSize)]
		_, err := tar.NewReader(bytes.NewReader(data)).Next()
		if err == nil && !mayBeArchive(head) {
			t.Errorf("archive/tar reads a header, mayBeArchive says no archive: %q", head)
		}
	})
}

func TestHasTarName(t *testing.T) {
	for name, want := range map[string]bool{
		"rootfs.tar.xz": true, "vendor.TGZ": true, "dist/app.tar.zst": true, "logs.gz": true,
		"bundle": false, "app.zip": false, "pkg.deb": false, "notes.txt": false,
		"archive.tar/": true, "gz": false,
	} {
		if got := hasTarName(name); got != want {
			t.Errorf("hasTarName(%q) = %v, want %v", name, got, want)
		}
	}
}
