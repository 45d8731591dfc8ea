package images

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Kind says what a smaller variant leaves out.
type Kind int

const (
	// Slim is the -slim variant of a Debian language image: Debian's slim
	// base, the language and its own tools, without what buildpack-deps
	// adds to the full image (compilers, version control, curl, wget,
	// procps, -dev libraries).
	Slim Kind = iota + 1
	// JRE is the Java runtime image of a JDK image: java without the
	// development tools (javac, jar, jlink, jshell, jcmd, …).
	JRE
)

// Smaller is the smaller variant upstream publishes for a full image tag.
type Smaller struct {
	Image string // the official image, "python"
	Tag   string // the full image's tag as written ("" for none)
	To    string // the smaller variant's tag
	Kind  Kind
	// FullMB and SmallMB are about how large (uncompressed, amd64, in MB)
	// the two images are: an estimate for a message, not a measurement.
	FullMB, SmallMB int
	// lacks maps each program the full image has and the smaller one
	// lacks to the Debian or Ubuntu packages that install it ("" when no
	// package brings it back: the JDK's tools).
	lacks map[string][]string
}

// SmallerOf returns the smaller variant of an official language image's
// tag, when the tag names a full, Debian- or Ubuntu-based image and the
// smaller tag exists upstream. A digest pins the full image's bytes: there
// is no smaller variant of it.
func SmallerOf(r Ref) (Smaller, bool) {
	if r.Digest != "" {
		return Smaller{}, false
	}
	name := r.Official()
	var to string
	var ok bool
	kind := Slim
	switch name {
	case "python", "ruby", "perl":
		to, ok = slimDebianFirst(name, r.Tag)
	case "node":
		to, ok = slimNode(r.Tag)
	case "eclipse-temurin":
		to, ok = jreTemurin(r.Tag)
		kind = JRE
	case "openjdk":
		to, ok = jreOpenJDK(r.Tag)
		kind = JRE
	}
	if !ok {
		return Smaller{}, false
	}
	s := Smaller{Image: name, Tag: r.Tag, To: to, Kind: kind}
	sz := sizes[name]
	s.FullMB, s.SmallMB = sz[0], sz[1]
	s.lacks = lacking(name)
	return s, true
}

// Lacks tells whether the smaller image lacks a program the full one has,
// and which packages install it (none for a JDK tool).
func (s Smaller) Lacks(program string) (pkgs []string, lacks bool) {
	pkgs, lacks = s.lacks[program]
	return pkgs, lacks
}

// Compiles tells whether the smaller image can build native code: false
// for a slim image (no gcc, no make, no headers), true for a JRE, whose
// JDK had no C compiler either.
func (s Smaller) Compiles() bool { return s.Kind == JRE }

// sizes are about how large the full and the smaller images are, in MB,
// uncompressed, for amd64 and recent versions.
var sizes = map[string][2]int{
	"python":          {1000, 130},
	"node":            {1100, 220},
	"ruby":            {1000, 220},
	"perl":            {900, 150},
	"eclipse-temurin": {450, 270},
	"openjdk":         {600, 290},
}

// Debian releases whose codename a tag may carry.
var (
	debianCodenames = []string{"trixie", "bookworm", "bullseye", "buster", "stretch", "jessie"}
	nodeDebian      = []string{"trixie", "bookworm", "bullseye", "buster", "stretch"}
	perlDebian      = []string{"trixie", "bookworm", "bullseye", "buster", "stretch"}
	ubuntuCodenames = []string{"resolute", "noble", "jammy", "focal"}
	openjdkDebian   = []string{"bullseye", "buster", "stretch"}
	// nodeCodenames are the names of Node.js LTS lines, tags of their own.
	nodeCodenames = []string{"argon", "boron", "carbon", "dubnium", "erbium", "fermium", "gallium", "hydrogen", "iron", "jod", "krypton"}
)

var (
	numericVersion = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,2}$`) })
	pythonVersion  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,2}((a|b|rc)[0-9]+)?$`) })
	temurinVersion = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+)(u[0-9]+|(\.[0-9]+){0,3}(_[0-9]+)?)$`) })
	openjdkVersion = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(8|11)(u[0-9]+|(\.[0-9]+){0,2})$`) })
)

// slimDebianFirst reads the tags of python, ruby and perl:
// VERSION[-rc][-slim][-threaded][-CODENAME], with every part optional
// (latest, slim, bookworm, slim-bookworm). The slim word comes right after
// the version: 3.12-bookworm becomes 3.12-slim-bookworm.
func slimDebianFirst(image, tag string) (string, bool) {
	words := tagWords(tag)
	var head []string // the version, and python's rc
	if len(words) > 0 && words[0] != "latest" && startsWithDigit(words[0]) {
		re := numericVersion()
		if image == "python" {
			re = pythonVersion()
		}
		if !re.MatchString(words[0]) {
			return "", false
		}
		head, words = words[:1], words[1:]
		if image == "python" && len(words) > 0 && words[0] == "rc" {
			head, words = append(head, "rc"), words[1:]
		}
	}
	codenames := debianCodenames
	if image == "perl" {
		codenames = perlDebian
	}
	var threaded bool
	var codename string
	for i, w := range words {
		switch {
		case w == "latest" && i == 0 && len(words) == 1 && len(head) == 0:
		case w == "threaded" && image == "perl" && !threaded && codename == "":
			threaded = true
		case slices.Contains(codenames, w) && codename == "":
			codename = w
		default:
			return "", false // slim, alpine, windowsservercore, onbuild, …
		}
	}
	out := append(head, "slim")
	if threaded {
		out = append(out, "threaded")
	}
	if codename != "" {
		out = append(out, codename)
	}
	return strings.Join(out, "-"), true
}

// slimNode reads node's tags: VERSION[-CODENAME][-slim], where the
// version is a number, lts, current or an LTS line's name. Slim comes
// last: 22-bookworm becomes 22-bookworm-slim.
func slimNode(tag string) (string, bool) {
	words := tagWords(tag)
	var head []string
	if len(words) > 0 {
		w := words[0]
		switch {
		case w == "latest" && len(words) == 1:
			words = nil
		case startsWithDigit(w) && numericVersion().MatchString(w), w == "lts", w == "current", slices.Contains(nodeCodenames, w):
			head, words = words[:1], words[1:]
		}
	}
	switch {
	case len(words) == 0:
	case len(words) == 1 && slices.Contains(nodeDebian, words[0]):
		head = append(head, words[0])
	default:
		return "", false // slim, alpine, lts-iron, onbuild, …
	}
	return strings.Join(append(head, "slim"), "-"), true
}

// jreTemurin reads eclipse-temurin's tags: VERSION[-bNN][-jdk][-OS] on
// Ubuntu, where a tag without jdk or jre is the JDK. The JRE tag has jre
// in its place: 21 and 21-jdk become 21-jre, 21-jdk-jammy 21-jre-jammy.
// Only the long-term versions have JRE images for certain.
func jreTemurin(tag string) (string, bool) {
	words := tagWords(tag)
	if len(words) == 0 {
		return "", false
	}
	m := temurinVersion().FindStringSubmatch(words[0])
	if m == nil {
		return "", false
	}
	switch m[1] {
	case "8", "11", "17", "21", "25":
	default:
		return "", false
	}
	head := words[:1]
	words = words[1:]
	if len(words) > 0 && strings.HasPrefix(words[0], "b") && strings.HasPrefix(m[2], "u") && isDigits(words[0][1:]) {
		head, words = append(head, words[0]), words[1:] // 8u412-b08
	}
	if len(words) > 0 && words[0] == "jdk" {
		words = words[1:]
	}
	out := append(append([]string{}, head...), "jre")
	switch {
	case len(words) == 0:
	case len(words) == 1 && slices.Contains(ubuntuCodenames, words[0]):
		out = append(out, words[0])
	default:
		return "", false // jre, alpine, ubi9-minimal, windowsservercore, …
	}
	return strings.Join(out, "-"), true
}

// jreOpenJDK reads the deprecated openjdk image's tags of Java 8 and 11,
// the only ones with JRE images: VERSION[-jdk][-CODENAME]. Java 17 and
// later have no JRE tag there.
func jreOpenJDK(tag string) (string, bool) {
	words := tagWords(tag)
	if len(words) == 0 || !openjdkVersion().MatchString(words[0]) {
		return "", false
	}
	head := words[:1]
	words = words[1:]
	if len(words) > 0 && words[0] == "jdk" {
		words = words[1:]
	}
	out := append(append([]string{}, head...), "jre")
	switch {
	case len(words) == 0:
	case len(words) == 1 && slices.Contains(openjdkDebian, words[0]):
		out = append(out, words[0])
	default:
		return "", false // jre, slim, alpine, windowsservercore, …
	}
	return strings.Join(out, "-"), true
}

func tagWords(tag string) []string {
	if tag == "" {
		return nil
	}
	return strings.Split(tag, "-")
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

func isDigits(s string) bool {
	_, err := strconv.Atoi(s)
	return s != "" && err == nil
}
