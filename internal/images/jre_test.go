package images

import "testing"

func TestJREOf(t *testing.T) {
	tests := []struct {
		in, to  string // to "" when there is none
		version string
		vendor  bool
	}{
		{in: "eclipse-temurin:21-jdk", to: "eclipse-temurin:21-jre", version: "21"},
		{in: "eclipse-temurin:21", to: "eclipse-temurin:21-jre", version: "21"},
		{in: "eclipse-temurin:17-jdk-jammy", to: "eclipse-temurin:17-jre-jammy", version: "17"},
		{in: "eclipse-temurin:8u412-b08-jdk-focal", to: "eclipse-temurin:8u412-b08-jre-focal", version: "8"},
		{in: "eclipse-temurin:21-jdk-alpine"},
		{in: "eclipse-temurin:21-jre"},
		{in: "maven:3-eclipse-temurin-21", to: "eclipse-temurin:21-jre", version: "21"},
		{in: "maven:3.9.6-eclipse-temurin-17", to: "eclipse-temurin:17-jre", version: "17"},
		{in: "maven:3.9-eclipse-temurin-21-jammy", to: "eclipse-temurin:21-jre-jammy", version: "21"},
		{in: "maven:eclipse-temurin-21-noble", to: "eclipse-temurin:21-jre-noble", version: "21"},
		{in: "maven:3-eclipse-temurin-21-alpine"},
		{in: "maven:3-eclipse-temurin-22"},
		{in: "maven:3-amazoncorretto-21"},
		{in: "maven:3-openjdk-17"},
		{in: "maven:3"},
		{in: "gradle:8-jdk21", to: "eclipse-temurin:21-jre", version: "21"},
		{in: "gradle:8.7.0-jdk17-jammy", to: "eclipse-temurin:17-jre-jammy", version: "17"},
		{in: "gradle:jdk21", to: "eclipse-temurin:21-jre", version: "21"},
		{in: "gradle:8-jdk21-alpine"},
		{in: "gradle:8-jdk21-graal"},
		{in: "gradle:8-jdk21-corretto"},
		{in: "gradle:8"},
		{in: "openjdk:11-jdk", to: "openjdk:11-jre", version: "11"},
		{in: "openjdk:8", to: "openjdk:8-jre", version: "8"},
		{in: "openjdk:17-jdk", to: "eclipse-temurin:17-jre", version: "17", vendor: true},
		{in: "openjdk:17-jdk-slim", to: "eclipse-temurin:17-jre", version: "17", vendor: true},
		{in: "openjdk:21", to: "eclipse-temurin:21-jre", version: "21", vendor: true},
		{in: "openjdk:18-jdk"},
		{in: "openjdk:17-alpine"},
		{in: "openjdk:11-jdk-slim"},
		{in: "ghcr.io/library/maven:3-eclipse-temurin-21"},
		{in: "debian:bookworm"},
	}
	for _, tt := range tests {
		r, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		j, ok := JREOf(r)
		if tt.to == "" {
			if ok {
				t.Errorf("JREOf(%q) = %+v, want none", tt.in, j)
			}
			continue
		}
		if !ok || j.To != tt.to || j.Version != tt.version || (j.Vendor != "") != tt.vendor {
			t.Errorf("JREOf(%q) = %+v (ok %v), want %s (Java %s, other vendor %v)", tt.in, j, ok, tt.to, tt.version, tt.vendor)
		}
	}
}

func TestJREPackage(t *testing.T) {
	for in, want := range map[string]string{
		"default-jdk-headless":    "default-jre-headless",
		"default-jdk":             "default-jre",
		"openjdk-17-jdk-headless": "openjdk-17-jre-headless",
		"openjdk-21-jdk":          "openjdk-21-jre",
		"openjdk-17-jdk=17.0.15":  "",
		"openjdk-17-jre-headless": "",
		"openjdk-jdk":             "",
		"maven":                   "",
	} {
		got, ok := JREPackage(in)
		if got != want || ok != (want != "") {
			t.Errorf("JREPackage(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
