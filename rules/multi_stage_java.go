package rules

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/internal/images"
	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// findJavaBuild finds the one jar build of a stage (mvn package, gradle
// build, the jar tool) whose jar the image runs with java -jar: the jar
// goes onto a JRE of the same Java, the JRE image of the build's JDK
// image, or the same distribution's slim image with the JRE package of
// the JDK the stage installs.
func findJavaBuild(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage) (*stageSplit, bool) {
	b, in, ok := findJarBuild(m, st)
	if !ok {
		return nil, false
	}
	argv, ok := imageCommand(st)
	if !ok {
		return nil, false
	}
	launch, ok := runmodel.JavaLaunchOf(argv)
	if !ok {
		return nil, false
	}
	wd := m.After(st.Instructions[len(st.Instructions)-1]).Workdir
	jar := launch.Jar
	if !path.IsAbs(jar) {
		if wd == "" {
			return nil, false
		}
		jar = path.Join(wd, jar)
	}
	sp := &stageSplit{build: in, main: b.Cmd, program: jar, outputs: []string{jar}}
	switch {
	case b.Tool == "jar" && jar == b.Jar:
	case b.Tool == "jar" || path.Dir(jar) != b.Dir || path.Ext(jar) != ".jar":
		return nil, false // a jar the build does not write
	case b.Tool == "maven":
		why, ok := mavenWrites(p, m, st, in, b, path.Base(jar))
		if !ok {
			return nil, false
		}
		sp.assumes = append(sp.assumes, why)
	default:
		sp.assumes = append(sp.assumes, "gradle writes "+jar+" (dfopt does not read build.gradle)")
	}

	runtime, setup, launcher, why, ok := jreFor(p.Doc, m, st)
	if !ok || launch.Java != "java" && launch.Java != launcher {
		return nil, false
	}
	sp.runtime, sp.setup = runtime, setup
	sp.assumes = append(sp.assumes, why, "it needs no JDK tool at run time (javac, jar, jcmd, jshell), only java")
	if ref, err := images.Parse(st.Base); err == nil && ref.Official() == "maven" && !slices.ContainsFunc(st.Instructions, func(in *rewrite.Instruction) bool {
		_, ok := in.Command.(*instructions.EntrypointCommand)
		return ok
	}) {
		sp.assumes = append(sp.assumes, "the maven image's entrypoint (mvn-entrypoint.sh), which the runtime image does not run, only prepares Maven's settings")
	}
	sp.runs = func(got []string, gotWd string) bool { return slices.Equal(got, argv) && gotWd == wd }
	sp.step = func(c *runmodel.Cmd) bool {
		switch {
		case c.Is("javac"):
			return true // compiles into the builder
		case c.Is("chmod") && len(c.Args) == 2 && c.Args[0].Is("+x") && (c.Args[1].Is("gradlew") || c.Args[1].Is("./gradlew") || c.Args[1].Is("mvnw") || c.Args[1].Is("./mvnw")):
			return true
		case c.Is("mvn", "mvnw", "gradle", "gradlew"):
			return runmodel.ManagerOf(c).Read(c).DepsOnly()
		}
		return leftBehind(c, runmodel.JavaToolchainPackage)
	}
	sp.source = func(rel string) bool { return javaSource(b.Tool, rel) }
	return sp, true
}

// findJarBuild finds the one jar build of a stage (mvn and gradle are
// opaque for running the project's build: buildRun asks only that the
// build is not conditional).
func findJarBuild(m *runmodel.Model, st *rewrite.Stage) (runmodel.JarBuild, *rewrite.Instruction, bool) {
	return buildRun(m, st, false, func(r *runmodel.Run, c *runmodel.Cmd) (runmodel.JarBuild, bool, bool) {
		b, ok := m.JarBuildOf(r, c)
		return b, ok, true
	})
}

// mavenWrites tells whether mvn package writes target/name: the pom.xml
// the stage copies says so, or dfopt cannot read it and says it assumes
// so. A pom that names another jar, or packages none, stops the split.
func mavenWrites(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage, build *rewrite.Instruction, b runmodel.JarBuild, name string) (string, bool) {
	ctx := p.Options.Context
	if ctx == nil {
		return "mvn package writes target/" + name + " (dfopt had no build context to read pom.xml)", true
	}
	rel, why := contextFileAt(p, m, st, build, b.Pom)
	if rel == "" {
		return "mvn package writes target/" + name + " (" + why + ")", true
	}
	pom, err := runmodel.ReadPom(head(ctx, rel, 1<<20), b.Props)
	switch {
	case err != nil || !pom.Jar:
		return "", false
	case pom.Name == "":
		return "mvn package writes target/" + name + " (" + rel + " leaves its name to what dfopt does not read)", true
	case pom.Name != name:
		return "", false
	}
	return "mvn package writes target/" + name + ", as " + rel + " says", true
}

// contextFileAt finds the file of the build context that the stage's
// COPYs before the build put at file (absolute): the last one that does.
// It returns "" and why where it cannot tell.
func contextFileAt(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage, build *rewrite.Instruction, file string) (string, string) {
	found := ""
	for _, c := range contextCopies(p.Doc, map[*rewrite.Stage]bool{st: true}) {
		if c.in.StartLine > build.StartLine {
			break
		}
		cp, ok := c.in.Command.(*instructions.CopyCommand)
		if !ok {
			return "", "an ADD brings files dfopt does not list"
		}
		dest, ok := copyDestination(m, c.in, cp.DestPath)
		if !ok {
			return "", "dfopt cannot read a COPY's destination"
		}
		destDir := strings.HasSuffix(cp.DestPath, "/") || cp.DestPath == "." || len(cp.SourcePaths) > 1
		files, why := c.landings(p.Options.Context, dest, destDir)
		if why != "" {
			return "", why
		}
		for _, f := range files {
			if f.image == file {
				found = f.rel
			}
		}
	}
	if found == "" {
		return "", "no COPY brings " + file + " from the build context"
	}
	return found, ""
}

// jreFor names the runtime base of a stage's jar, the lines that open its
// stage, the path of its java launcher and why it is the same Java: the
// JRE image of a JDK image (eclipse-temurin, maven, gradle, openjdk), or
// for a JDK installed with apt on Debian or Ubuntu, the slim image with
// the JRE packages of the JDK packages the stage installs.
func jreFor(d *rewrite.Document, m *runmodel.Model, st *rewrite.Stage) (runtime string, setup []string, launcher, why string, ok bool) {
	ref, err := images.Parse(st.Base)
	if err != nil {
		return "", nil, "", "", false
	}
	if j, ok := images.JREOf(ref); ok {
		why := j.To + " runs the same Java " + j.Version + " as " + st.Base
		if j.Vendor != "" {
			why = j.To + " runs Java " + j.Version + " like " + st.Base + " (" + j.Vendor + ")"
		}
		launcher := "" // the openjdk images' java is in a folder of their version
		if strings.HasPrefix(j.To, "eclipse-temurin:") {
			launcher = "/opt/java/openjdk/bin/java"
		}
		return j.To, nil, launcher, why, true
	}
	slim, ok := slimOf(st.Base)
	if !ok || strings.HasPrefix(slim, "alpine:") {
		return "", nil, "", "", false
	}
	var jdks, jres []string
	for _, in := range st.Instructions {
		r := m.Run(in)
		if r == nil {
			continue
		}
		for _, c := range r.Cmds {
			mgr := runmodel.ManagerOf(c)
			if mgr == nil || mgr.Name != "apt" || !mgr.Read(c).Installs() {
				continue
			}
			for _, pkg := range mgr.Read(c).Operands() {
				if jre, ok := images.JREPackage(pkg); ok {
					jdks, jres = append(jdks, pkg), append(jres, jre)
				}
			}
		}
	}
	if len(jres) == 0 {
		return "", nil, "", "", false // the JDK of the base image, or one dfopt does not know
	}
	run := d.Keyword(st.From, "RUN")
	// The JRE packages' set-up registers the manual page of each Java
	// command as an alternative, a link in /usr/share/man/man1, which a
	// slim image leaves out (folder and all): without the folder dpkg
	// fails to configure the JRE: "error creating symbolic link
	// /usr/share/man/man1/java.1.gz.dpkg-tmp", as the bench's java-jar showed.
	setup = []string{fmt.Sprintf("%s mkdir -p /usr/share/man/man1 && apt-get update && apt-get install -y --no-install-recommends %s && rm -rf /var/lib/apt/lists/*", run, strings.Join(jres, " "))}
	why = slim + " with " + strings.Join(jres, ", ") + " runs the same Java as " + strings.Join(jdks, ", ") + " of the same release"
	return slim, setup, "/usr/bin/java", why, true
}

// javaSource tells whether a file of the build context is one a jar build
// reads and the program does not read at run time: Java, Kotlin, Groovy
// and Scala sources, the build's files and wrappers, and for Maven and
// Gradle the resources they pack into the jar and the tests.
func javaSource(tool, rel string) bool {
	base := path.Base(rel)
	switch path.Ext(base) {
	case ".java", ".kt", ".kts", ".groovy", ".scala", ".gradle":
		return true
	}
	switch base {
	case "pom.xml", "gradle.properties", "gradlew", "gradlew.bat", "mvnw", "mvnw.cmd", "MANIFEST.MF", "manifest.txt":
		return true
	}
	if strings.HasPrefix(rel, ".mvn/") || strings.HasPrefix(rel, "gradle/wrapper/") {
		return true
	}
	return tool != "jar" && (strings.HasPrefix(rel, "src/main/resources/") || strings.HasPrefix(rel, "src/test/"))
}
