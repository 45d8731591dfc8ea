package runmodel_test

import (
	"testing"

	"github.com/dfopt/dfopt/internal/runmodel"
)

func TestJarBuildOf(t *testing.T) {
	tests := []struct {
		run             string
		tool, dir, file string // tool "" when it is no jar build
		pom             string
	}{
		{run: "mvn -B package", tool: "maven", dir: "/app/target", pom: "/app/pom.xml"},
		{run: "mvn -B -o -Dmaven.repo.local=/usr/share/maven-repo -DskipTests clean package", tool: "maven", dir: "/app/target", pom: "/app/pom.xml"},
		{run: "mvn -f /src/pom.xml -q install", tool: "maven", dir: "/src/target", pom: "/src/pom.xml"},
		{run: "mvn --file=svc verify", tool: "maven", dir: "/app/svc/target", pom: "/app/svc/pom.xml"},
		{run: "cd /build && ./mvnw -B package -P prod", tool: "maven", dir: "/build/target", pom: "/build/pom.xml"},
		{run: "mvn -B dependency:go-offline"},
		{run: "mvn compile"},
		{run: "mvn package spring-boot:repackage"},
		{run: "mvn -pl app -am package"},
		{run: "mvn package -f $POM"},
		{run: "gradle build --no-daemon", tool: "gradle", dir: "/app/build/libs"},
		{run: "./gradlew clean bootJar -x test", tool: "gradle", dir: "/app/build/libs"},
		{run: "gradle -p /src assemble", tool: "gradle", dir: "/src/build/libs"},
		{run: "gradle :app:build"},
		{run: "gradle -b other.gradle build"},
		{run: "gradle test"},
		{run: "jar cfe app.jar hello.Main -C out .", tool: "jar", dir: "/app", file: "/app/app.jar"},
		{run: "jar cvfm /dist/app.jar manifest.txt -C out .", tool: "jar", dir: "/dist", file: "/dist/app.jar"},
		{run: "jar --create --file /dist/app.jar --main-class hello.Main -C out .", tool: "jar", dir: "/dist", file: "/dist/app.jar"},
		{run: "jar -c -f=lib/app.jar -e hello.Main -C out .", tool: "jar", dir: "/app/lib", file: "/app/lib/app.jar"},
		{run: "jar tf app.jar"},
		{run: "jar --update --file app.jar -C out ."},
		{run: "jar cf $JAR -C out ."},
	}
	for _, tt := range tests {
		m, r := runOf(t, "FROM x\nWORKDIR /app\nRUN "+tt.run, 0)
		c := r.Cmds[len(r.Cmds)-1]
		b, ok := m.JarBuildOf(r, c)
		if tt.tool == "" {
			if ok {
				t.Errorf("%s: JarBuildOf = %+v, want none", tt.run, b)
			}
			continue
		}
		if !ok || b.Tool != tt.tool || b.Dir != tt.dir || b.Jar != tt.file || b.Pom != tt.pom {
			t.Errorf("%s: JarBuildOf = %+v (ok %v), want %s writing into %s (jar %q, pom %q)", tt.run, b, ok, tt.tool, tt.dir, tt.file, tt.pom)
		}
	}
}

func TestReadPom(t *testing.T) {
	pom := func(body string) string {
		return `<?xml version="1.0"?><project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>` + body + `</project>`
	}
	tests := []struct {
		name  string
		text  string
		props map[string]string
		jar   bool
		want  string
	}{
		{"plain", pom(`<groupId>g</groupId><artifactId>hello</artifactId><version>1.0</version>`), nil, true, "hello-1.0.jar"},
		{"finalName", pom(`<artifactId>hello</artifactId><version>1.0</version><build><finalName>app</finalName></build>`), nil, true, "app.jar"},
		{"finalName with properties", pom(`<artifactId>hello</artifactId><version>1.0</version><build><finalName>${project.artifactId}-${env}</finalName></build><properties><env>prod</env></properties>`), nil, true, "hello-prod.jar"},
		{"parent's version", pom(`<parent><artifactId>p</artifactId><version>2.1</version></parent><artifactId>svc</artifactId>`), nil, true, "svc-2.1.jar"},
		{"revision from the command line", pom(`<artifactId>svc</artifactId><version>${revision}</version>`), map[string]string{"revision": "3"}, true, "svc-3.jar"},
		{"unknown property", pom(`<artifactId>svc</artifactId><version>${revision}</version>`), nil, true, ""},
		{"no version", pom(`<artifactId>svc</artifactId>`), nil, true, ""},
		{"build directory moved", pom(`<artifactId>svc</artifactId><version>1</version><build><directory>out</directory></build>`), nil, true, ""},
		{"war", pom(`<artifactId>web</artifactId><version>1</version><packaging>war</packaging>`), nil, false, ""},
		{"modules", pom(`<artifactId>all</artifactId><version>1</version><packaging>pom</packaging><modules><module>a</module></modules>`), nil, false, ""},
	}
	for _, tt := range tests {
		p, err := runmodel.ReadPom([]byte(tt.text), tt.props)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if p.Jar != tt.jar || p.Name != tt.want {
			t.Errorf("%s: ReadPom = %+v, want jar %v, name %q", tt.name, p, tt.jar, tt.want)
		}
	}
	if _, err := runmodel.ReadPom([]byte("not xml <"), nil); err == nil {
		t.Error("ReadPom of a broken file: no error")
	}
}

func TestJavaLaunchOf(t *testing.T) {
	tests := []struct {
		argv []string
		jar  string // "" when it is no java -jar
	}{
		{[]string{"java", "-jar", "/app/app.jar"}, "/app/app.jar"},
		{[]string{"java", "-Xmx512m", "-XX:+UseG1GC", "-Dspring.profiles.active=prod", "-jar", "target/app-1.0.jar", "--port", "8080"}, "target/app-1.0.jar"},
		{[]string{"/opt/java/openjdk/bin/java", "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-jar", "app.jar"}, "app.jar"},
		{[]string{"java", "-jar", "target/*.jar"}, ""},
		{[]string{"java", "-jar", "${JAR}"}, ""},
		{[]string{"java", "-cp", "app.jar:lib/*", "hello.Main"}, ""},
		{[]string{"java", "-javaagent:/otel.jar", "-jar", "app.jar"}, ""},
		{[]string{"java", "-Dconfig=/etc/app.yml", "-jar", "app.jar"}, ""},
		{[]string{"java", "@/app/jvm.args", "-jar", "app.jar"}, ""},
		{[]string{"java", "org.springframework.boot.loader.launch.JarLauncher"}, ""},
		{[]string{"jshell", "/app/script.jsh"}, ""},
		{[]string{"java", "-jar"}, ""},
	}
	for _, tt := range tests {
		l, ok := runmodel.JavaLaunchOf(tt.argv)
		if ok != (tt.jar != "") || l.Jar != tt.jar {
			t.Errorf("JavaLaunchOf(%q) = %+v (ok %v), want jar %q", tt.argv, l, ok, tt.jar)
		}
	}
}

func TestJavaToolchainPackage(t *testing.T) {
	for pkg, want := range map[string]bool{
		"default-jdk-headless":           true,
		"openjdk-17-jdk":                 true,
		"openjdk-21-jdk-headless":        true,
		"maven":                          true,
		"gradle":                         true,
		"libmaven-jar-plugin-java":       true,
		"libsurefire-java":               true,
		"git":                            true,
		"openjdk-17-jre-headless":        false,
		"default-jre":                    false,
		"libcommons-lang3-java":          false,
		"libpostgresql-jdbc-java":        false,
		"openjdk-17-jdk-headless=17.0.1": true,
	} {
		if got := runmodel.JavaToolchainPackage(pkg); got != want {
			t.Errorf("JavaToolchainPackage(%q) = %v, want %v", pkg, got, want)
		}
	}
}
