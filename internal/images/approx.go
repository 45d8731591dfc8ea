package images

import "strings"

// approxMB are about how large (uncompressed, amd64, recent versions, in
// MB) the images a multi-stage split builds on and ships on are, by
// repository and the variant word of the tag ("" for the default, full
// variant): an estimate for a message, never a measurement.
var approxMB = map[string]map[string]int{
	"docker.io/library/golang":              {"": 820, "alpine": 230},
	"docker.io/library/rust":                {"": 1500, "slim": 750, "alpine": 850},
	"docker.io/library/gcc":                 {"": 1400},
	"docker.io/library/maven":               {"": 500},
	"docker.io/library/gradle":              {"": 700},
	"docker.io/library/debian":              {"": 117, "slim": 75},
	"docker.io/library/ubuntu":              {"": 78},
	"docker.io/library/alpine":              {"": 8},
	"mcr.microsoft.com/dotnet/sdk":          {"": 850, "alpine": 750},
	"mcr.microsoft.com/dotnet/core/sdk":     {"": 700},
	"mcr.microsoft.com/dotnet/aspnet":       {"": 220, "alpine": 110},
	"mcr.microsoft.com/dotnet/core/aspnet":  {"": 210},
	"gcr.io/distroless/static-debian12":     {"": 2},
	"gcr.io/distroless/base-debian12":       {"": 20},
	"docker.io/library/eclipse-temurin:jre": {"": 270},
	"docker.io/library/eclipse-temurin:jdk": {"": 450},
	"docker.io/library/python:slim":         {"": 130},
	"docker.io/library/node:slim":           {"": 220},
	"docker.io/library/python":              {"": 1000},
	"docker.io/library/node":                {"": 1100},
	"docker.io/library/nginx":               {"": 190, "alpine": 50},
}

// ApproxMB says about how large an image is, in MB, uncompressed, where
// dfopt knows its repository and variant: scratch is 0; the full and slim
// language images come from the same table as SmallerOf's estimates.
func ApproxMB(s string) (int, bool) {
	if s == "scratch" {
		return 0, true
	}
	r, err := Parse(s)
	if err != nil {
		return 0, false
	}
	repo := r.Domain + "/" + r.Path
	variant := ""
	for _, w := range []string{"alpine", "slim", "jre", "jdk"} {
		if strings.Contains(r.Tag, w) {
			variant = w
			break
		}
	}
	if variant == "jre" || variant == "jdk" || (variant == "slim" && (r.Path == "library/python" || r.Path == "library/node")) {
		if mb, ok := approxMB[repo+":"+variant][""]; ok {
			return mb, true
		}
	}
	if r.Path == "library/eclipse-temurin" {
		return approxMB[repo+":jdk"][""], true // a bare version is the JDK
	}
	byVariant, ok := approxMB[repo]
	if !ok {
		return 0, false
	}
	mb, ok := byVariant[variant]
	return mb, ok
}
