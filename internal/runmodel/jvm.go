package runmodel

import (
	"encoding/xml"
	"path"
	"slices"
	"strings"
)

// JarBuild is a command that builds a Java program into a jar: mvn
// package (or verify, install), gradle build (or assemble, jar, bootJar),
// or the JDK's jar tool creating a file. A multi-stage split knows from it
// where the jar the image runs comes from.
type JarBuild struct {
	Tool string // "maven", "gradle" or "jar"
	Cmd  *Cmd
	// Project is the folder of the project, absolute: where pom.xml or
	// build.gradle is (the command's folder, or the one -f or -p names).
	// For the jar tool, the folder it runs in.
	Project string
	// Pom is the file mvn reads, absolute (Project/pom.xml unless -f
	// names another); "" for the other tools.
	Pom string
	// Dir is where the build writes its jars: Project/target for Maven,
	// Project/build/libs for Gradle, the jar's folder for the jar tool.
	Dir string
	// Jar is the file the jar tool writes, absolute; "" for Maven and
	// Gradle, whose jar's name the project's build file says.
	Jar string
	// Props are the properties the command line sets (mvn -Dname=value),
	// which a pom's ${name} reads.
	Props map[string]string
}

// mavenPhases are the lifecycle phases mvn runs up to package and a bit
// beyond; a command naming another goal (a plugin's, deploy) is not read.
var mavenPhases = []string{"clean", "validate", "compile", "test-compile", "test", "package", "verify", "install"}

// mavenFlags and mavenValueFlags are the options of mvn that change
// neither which project it builds nor where the jar goes.
var (
	mavenFlags = []string{"-B", "--batch-mode", "-q", "--quiet", "-e", "--errors", "-X", "--debug", "-o", "--offline",
		"-U", "--update-snapshots", "-nsu", "--no-snapshot-updates", "-ntp", "--no-transfer-progress", "-C", "--strict-checksums",
		"-c", "--lax-checksums", "-V", "--show-version", "-fae", "--fail-at-end", "-ff", "--fail-fast", "-N", "--non-recursive"}
	mavenValueFlags = []string{"-P", "--activate-profiles", "-T", "--threads", "-s", "--settings", "-gs", "--global-settings",
		"-t", "--toolchains", "-l", "--log-file"}
)

// gradleTasks are the tasks a Gradle build may run; the first group
// writes the project's jars into build/libs.
var (
	gradleJarTasks   = []string{"build", "assemble", "jar", "bootJar", "shadowJar"}
	gradleOtherTasks = []string{"clean", "check", "test"}
	gradleFlags      = []string{"--no-daemon", "--daemon", "-q", "--quiet", "-i", "--info", "-w", "--warn", "-S", "--stacktrace",
		"-s", "--full-stacktrace", "--offline", "--build-cache", "--no-build-cache", "--parallel", "--no-parallel",
		"--console=plain", "--console=auto", "--console=rich", "--no-configuration-cache", "--configuration-cache"}
)

// JarBuildOf reads a command of a RUN as a jar build. ok is false for
// anything else: another goal or task (a plugin's, a subproject's), an
// option that moves the output or picks the projects (-pl, -b), a word the
// model cannot read, or a folder it cannot tell.
func (m *Model) JarBuildOf(r *Run, c *Cmd) (JarBuild, bool) {
	if c.MoreArgs || c.Name == "" || c.Opaque && KindOf(c.Name) != Packages {
		return JarBuild{}, false
	}
	cwd := m.Cwd(m.State(r.In), c)
	var b JarBuild
	var ok bool
	switch c.Name {
	case "mvn", "mvnw":
		b, ok = mavenBuild(c, cwd)
	case "gradle", "gradlew":
		b, ok = gradleBuild(c, cwd)
	case "jar":
		b, ok = jarTool(c, cwd)
	}
	if !ok || !path.IsAbs(b.Project) {
		return JarBuild{}, false
	}
	b.Cmd = c
	return b, true
}

func mavenBuild(c *Cmd, cwd string) (JarBuild, bool) {
	b := JarBuild{Tool: "maven", Project: cwd, Props: map[string]string{}}
	pom, packages := "", false
	for i := 0; i < len(c.Args); i++ {
		v, ok := c.Args[i].Value()
		if !ok {
			return JarBuild{}, false
		}
		switch {
		case slices.Contains(mavenFlags, v):
		case slices.Contains(mavenValueFlags, v):
			i++
		case v == "-f" || v == "--file":
			if i++; i >= len(c.Args) {
				return JarBuild{}, false
			}
			if pom, ok = c.Args[i].Value(); !ok {
				return JarBuild{}, false
			}
		case strings.HasPrefix(v, "--file="):
			pom = strings.TrimPrefix(v, "--file=")
		case v == "-D" || strings.HasPrefix(v, "-D"):
			def := strings.TrimPrefix(v, "-D")
			if def == "" {
				if i++; i >= len(c.Args) {
					return JarBuild{}, false
				}
				if def, ok = c.Args[i].Value(); !ok {
					return JarBuild{}, false
				}
			}
			name, value, _ := strings.Cut(def, "=")
			b.Props[name] = value
		case strings.HasPrefix(v, "-"):
			return JarBuild{}, false // -pl, -am, -rf and the options not read
		case slices.Contains(mavenPhases, v):
			packages = packages || v == "package" || v == "verify" || v == "install"
		default:
			return JarBuild{}, false // a plugin's goal, deploy
		}
	}
	if !packages {
		return JarBuild{}, false
	}
	switch {
	case pom == "":
		b.Pom = inDir(cwd, "pom.xml")
	case strings.HasSuffix(pom, ".xml"):
		b.Pom = inDirOf(cwd, pom)
	default:
		b.Pom = path.Join(inDirOf(cwd, pom), "pom.xml")
	}
	if !path.IsAbs(b.Pom) {
		return JarBuild{}, false
	}
	b.Project = path.Dir(b.Pom)
	b.Dir = path.Join(b.Project, "target")
	return b, true
}

func gradleBuild(c *Cmd, cwd string) (JarBuild, bool) {
	b := JarBuild{Tool: "gradle", Project: cwd}
	jars := false
	for i := 0; i < len(c.Args); i++ {
		v, ok := c.Args[i].Value()
		if !ok {
			return JarBuild{}, false
		}
		switch {
		case slices.Contains(gradleFlags, v), strings.HasPrefix(v, "-D"), strings.HasPrefix(v, "-P"), strings.HasPrefix(v, "--warning-mode"):
		case v == "-x" || v == "--exclude-task":
			i++
		case v == "-p" || v == "--project-dir":
			if i++; i >= len(c.Args) {
				return JarBuild{}, false
			}
			dir, ok := c.Args[i].Value()
			if !ok {
				return JarBuild{}, false
			}
			b.Project = inDirOf(cwd, dir)
		case strings.HasPrefix(v, "-"):
			return JarBuild{}, false // -b, -c, -g, -I and the options not read
		case slices.Contains(gradleJarTasks, v):
			jars = true
		case slices.Contains(gradleOtherTasks, v):
		default:
			return JarBuild{}, false // another task, a subproject's (:app:build)
		}
	}
	if !jars || !path.IsAbs(b.Project) {
		return JarBuild{}, false
	}
	b.Dir = path.Join(b.Project, "build", "libs")
	return b, true
}

// jarTool reads the JDK's jar creating a file: jar cfe app.jar Main -C out .
// (the letters' operands follow in their order), or jar --create
// --file=app.jar --main-class=Main ….
func jarTool(c *Cmd, cwd string) (JarBuild, bool) {
	b := JarBuild{Tool: "jar", Project: cwd}
	if len(c.Args) == 0 {
		return JarBuild{}, false
	}
	file, create := "", false
	first, ok := c.Args[0].Value()
	if !ok {
		return JarBuild{}, false
	}
	i := 1
	if letters := strings.TrimPrefix(first, "-"); !strings.HasPrefix(first, "--") && letters != "" && strings.Trim(letters, "cvf0meMn") == "" && strings.Contains(letters, "f") {
		// Old style: the operands of f, m and e follow in the letters' order.
		for _, l := range letters {
			switch l {
			case 'c':
				create = true
			case 'f', 'm', 'e':
				if i >= len(c.Args) {
					return JarBuild{}, false
				}
				v, ok := c.Args[i].Value()
				if !ok {
					return JarBuild{}, false
				}
				if l == 'f' {
					file = v
				}
				i++
			}
		}
	} else {
		i = 0
		for ; i < len(c.Args); i++ {
			v, ok := c.Args[i].Value()
			if !ok {
				return JarBuild{}, false
			}
			name, value, hasValue := strings.Cut(v, "=")
			switch {
			case v == "-c" || v == "--create":
				create = true
			case v == "-v" || v == "--verbose" || v == "-M" || v == "--no-manifest" || v == "-0" || v == "--no-compress":
			case name == "-f" || name == "--file":
				if !hasValue {
					if i++; i >= len(c.Args) {
						return JarBuild{}, false
					}
					if value, ok = c.Args[i].Value(); !ok {
						return JarBuild{}, false
					}
				}
				file = value
			case name == "-e" || name == "--main-class" || name == "-m" || name == "--manifest":
				if !hasValue {
					i++
				}
			case strings.HasPrefix(v, "-") && v != "-C":
				return JarBuild{}, false // --update, --release and the rest
			default:
				i = len(c.Args) // the files: -C DIR . and the like
			}
		}
	}
	if !create || file == "" || strings.HasSuffix(file, "/") {
		return JarBuild{}, false
	}
	b.Jar = inDirOf(cwd, file)
	b.Dir = path.Dir(b.Jar)
	return b, path.IsAbs(b.Jar)
}

// inDirOf is p in folder dir: "" where p is relative and dir unknown.
func inDirOf(dir, p string) string {
	if dir == "" && !path.IsAbs(p) {
		return ""
	}
	return inDir(dir, p)
}

// Pom is what a Maven project's pom.xml says of the jar mvn package
// writes into target/.
type Pom struct {
	// Jar says the project packages a jar (packaging jar, or none); a
	// parent project (modules, packaging pom) or a war does not.
	Jar bool
	// Name is the jar's file name: finalName.jar, or
	// artifactId-version.jar; "" where the pom leaves it to a property
	// dfopt cannot read (a parent's, a profile's) or moves target/.
	Name string
}

type pomXML struct {
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
	Packaging  string `xml:"packaging"`
	Parent     struct {
		ArtifactID string `xml:"artifactId"`
		Version    string `xml:"version"`
	} `xml:"parent"`
	Modules struct {
		Module []string `xml:"module"`
	} `xml:"modules"`
	Properties struct {
		Entries []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	} `xml:"properties"`
	Build struct {
		FinalName string `xml:"finalName"`
		Directory string `xml:"directory"`
	} `xml:"build"`
}

// ReadPom reads a pom.xml with the properties the command line sets. It
// fails for a file that is not a pom.
func ReadPom(text []byte, props map[string]string) (Pom, error) {
	var x pomXML
	if err := xml.Unmarshal(text, &x); err != nil {
		return Pom{}, err
	}
	p := Pom{Jar: (x.Packaging == "" || x.Packaging == "jar") && len(x.Modules.Module) == 0}
	if !p.Jar || x.Build.Directory != "" {
		return p, nil
	}
	version := x.Version
	if version == "" {
		version = x.Parent.Version
	}
	vars := map[string]string{}
	for _, e := range x.Properties.Entries {
		vars[e.XMLName.Local] = strings.TrimSpace(e.Value)
	}
	for k, v := range props {
		vars[k] = v
	}
	for _, k := range []string{"project.", "pom.", ""} {
		vars[k+"artifactId"] = strings.TrimSpace(x.ArtifactID)
		vars[k+"version"] = strings.TrimSpace(version)
	}
	vars["project.parent.version"] = strings.TrimSpace(x.Parent.Version)
	name := strings.TrimSpace(x.Build.FinalName)
	if name == "" {
		name = strings.TrimSpace(x.ArtifactID) + "-" + strings.TrimSpace(version)
	}
	for range 8 {
		start := strings.Index(name, "${")
		if start < 0 {
			break
		}
		end := strings.Index(name[start:], "}")
		v, ok := vars[name[start+2:start+max(end, 2)]]
		if end < 0 || !ok {
			return p, nil
		}
		name = name[:start] + v + name[start+end+1:]
	}
	if strings.ContainsAny(name, "${}/") || x.ArtifactID == "" || strings.HasSuffix(name, "-") {
		return p, nil
	}
	p.Name = name + ".jar"
	return p, nil
}

// JavaLaunch is a command that runs a jar: java [options] -jar FILE [args].
type JavaLaunch struct {
	Java string // the launcher as written: java, /usr/bin/java
	Jar  string // the jar as written
}

// javaModuleOptions are the java launcher's options whose value names
// modules and packages (java.base/java.lang), not files.
var javaModuleOptions = []string{"--add-opens", "--add-exports", "--add-reads", "--add-modules", "--enable-native-access"}

// JavaLaunchOf reads an image's command as java -jar FILE. ok is false for
// anything else, and where an option before -jar may name a file of the
// image (-cp, -javaagent:, -Dx=/path, @argfiles, --module-path), which the
// runtime must then have too.
func JavaLaunchOf(argv []string) (JavaLaunch, bool) {
	if len(argv) < 3 || path.Base(argv[0]) != "java" || strings.Contains(argv[0], "$") {
		return JavaLaunch{}, false
	}
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		name, _, hasValue := strings.Cut(a, "=")
		switch {
		case a == "-jar":
			if i+1 >= len(argv) || strings.ContainsAny(argv[i+1], "$*?[") || argv[i+1] == "" {
				return JavaLaunch{}, false
			}
			return JavaLaunch{Java: argv[0], Jar: argv[i+1]}, true
		case slices.Contains(javaModuleOptions, name):
			if !hasValue {
				i++
			}
		case strings.ContainsAny(a, "/$@") || !strings.HasPrefix(a, "-"):
			return JavaLaunch{}, false // a file, a variable, an argument file, a main class
		case a == "-cp" || a == "-classpath" || a == "--class-path" || a == "-p" || a == "--module-path" || a == "-m" || a == "--module" ||
			a == "--source" || a == "--upgrade-module-path" || a == "--patch-module" || a == "--limit-modules":
			return JavaLaunch{}, false
		case strings.HasPrefix(a, "-javaagent") || strings.HasPrefix(a, "-agent") || strings.HasPrefix(a, "-splash") || strings.HasPrefix(a, "-Xbootclasspath"):
			return JavaLaunch{}, false
		}
	}
	return JavaLaunch{}, false
}

// JavaToolchainPackage tells whether a system package is part of a Java
// build toolchain: a JDK (default-jdk, openjdk-17-jdk-headless), Maven, Gradle, Ant, Debian's packaged Maven plugins and
// helpers, and what ToolchainPackage says every build uses (git, make).
// A jar built with it runs on a JRE without it.
func JavaToolchainPackage(pkg string) bool {
	if ToolchainPackage("java", pkg) {
		return true
	}
	pkg = strings.ToLower(pkg)
	if i := strings.IndexAny(pkg, "=<>~:"); i > 0 {
		pkg = pkg[:i]
	}
	switch {
	case slices.Contains([]string{"maven", "gradle", "ant", "maven-debian-helper", "maven-repo-helper", "libsurefire-java", "default-jdk", "default-jdk-headless"}, pkg):
		return true
	case strings.HasPrefix(pkg, "libmaven-") && strings.HasSuffix(pkg, "-plugin-java"):
		return true
	case strings.HasPrefix(pkg, "openjdk-") && (strings.HasSuffix(pkg, "-jdk") || strings.HasSuffix(pkg, "-jdk-headless")):
		v := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(pkg, "openjdk-"), "-headless"), "-jdk")
		return v != "" && strings.Trim(v, "0123456789") == ""
	}
	return false
}
