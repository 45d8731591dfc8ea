package images

import (
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Runtime is the Java runtime image a program built on a JDK image runs on:
// the same major version of Java, from Eclipse Temurin where the build
// image is one of the images built on it (maven, gradle).
type Runtime struct {
	To      string // the runtime image, "eclipse-temurin:21-jre"
	Version string // the Java major version, "21"
	// Vendor says the runtime comes from another vendor than the build's
	// JDK ("" when it is the same build of Java): the deprecated openjdk
	// images of Java 12 and later have no JRE tag.
	Vendor string
}

var (
	mavenTemurinTag = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:[0-9]+(?:\.[0-9]+){0,2}-)?eclipse-temurin-([0-9]+)(?:-([a-z]+))?$`)
	})
	gradleJDKTag = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:[0-9]+(?:\.[0-9]+){0,2}-)?jdk([0-9]+)(?:-([a-z]+))?$`)
	})
	openjdkJDKTag = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+)(?:\.[0-9]+){0,2}(?:-jdk)?(?:-([a-z]+))?$`) })
)

// temurinLTS are the Java versions Temurin publishes JRE images of.
var temurinLTS = []string{"8", "11", "17", "21", "25"}

// JREOf returns the JRE image of the same Java a JDK image builds with:
// eclipse-temurin's JRE tag of an eclipse-temurin JDK tag; for maven's
// eclipse-temurin-N tags and gradle's jdkN tags (both built on
// eclipse-temurin:N-jdk on Ubuntu), eclipse-temurin:N-jre with the same
// Ubuntu codename; openjdk's JRE tag for Java 8 and 11, and
// eclipse-temurin:N-jre for the later openjdk tags, which have none. Alpine,
// UBI, other vendors' variants (corretto, graal, semeru) and digests have
// none here.
func JREOf(r Ref) (Runtime, bool) {
	if r.Digest != "" {
		return Runtime{}, false
	}
	temurin := func(version, codename string) (Runtime, bool) {
		if !slices.Contains(temurinLTS, version) {
			return Runtime{}, false
		}
		to := "eclipse-temurin:" + version + "-jre"
		switch {
		case codename == "":
		case slices.Contains(ubuntuCodenames, codename):
			to += "-" + codename
		default:
			return Runtime{}, false // alpine, ubi, …
		}
		return Runtime{To: to, Version: version}, true
	}
	switch r.Official() {
	case "eclipse-temurin":
		s, ok := SmallerOf(r)
		if !ok {
			return Runtime{}, false
		}
		return Runtime{To: "eclipse-temurin:" + s.To, Version: javaMajor(r.Tag)}, true
	case "maven":
		if m := mavenTemurinTag().FindStringSubmatch(r.Tag); m != nil {
			return temurin(m[1], m[2])
		}
	case "gradle":
		if m := gradleJDKTag().FindStringSubmatch(r.Tag); m != nil {
			return temurin(m[1], m[2])
		}
	case "openjdk":
		if s, ok := SmallerOf(r); ok {
			return Runtime{To: "openjdk:" + s.To, Version: javaMajor(r.Tag)}, true
		}
		m := openjdkJDKTag().FindStringSubmatch(r.Tag)
		if m == nil || m[1] == "8" || m[1] == "11" || m[2] != "" && m[2] != "slim" && !slices.Contains(debianCodenames, m[2]) {
			return Runtime{}, false // alpine, oracle, windowsservercore, …
		}
		j, ok := temurin(m[1], "")
		j.Vendor = "Eclipse Temurin's Java " + m[1] + " runtime on Ubuntu instead of the openjdk image's build and system"
		return j, ok
	}
	return Runtime{}, false
}

// javaMajor is the Java major version a tag starts with: "8" for 8u412-b08.
func javaMajor(tag string) string {
	v := tag
	if i := strings.IndexAny(v, "u.-_"); i >= 0 {
		v = v[:i]
	}
	return v
}

// JREPackage names the Debian or Ubuntu package of the Java runtime that
// goes with a JDK package: default-jdk-headless -> default-jre-headless,
// openjdk-17-jdk -> openjdk-17-jre. ok is false for any other package.
func JREPackage(pkg string) (string, bool) {
	name := pkg
	if i := strings.IndexAny(name, "=:"); i >= 0 {
		return "", false // a version or an architecture: not followed
	}
	for _, suffix := range []string{"-jdk-headless", "-jdk"} {
		stem, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		switch {
		case stem == "default":
		case strings.HasPrefix(stem, "openjdk-") && isDigits(strings.TrimPrefix(stem, "openjdk-")):
		default:
			return "", false
		}
		return stem + strings.Replace(suffix, "jdk", "jre", 1), true
	}
	return "", false
}
