package runmodel

import (
	"path"
	"slices"
	"strings"
	"sync"
)

// Kind says what the model knows a program does.
type Kind int

const (
	// Unknown programs may read, write and run anything.
	Unknown Kind = iota
	// Pure programs touch no file but their redirections: echo, true, test.
	Pure
	// Builtin commands change the shell that runs them (cd, export, set).
	Builtin
	// Files programs read and write the files their operands name: cp, rm, tar.
	Files
	// Fetch programs download into the files their options name: curl, wget.
	Fetch
	// Users programs change users and groups: /etc and home folders.
	Users
	// Compiler programs read their operands and write their output (-o).
	Compiler
	// Packages programs are package managers and toolchains of the table
	// (see Managers): they write where the table says.
	Packages
)

// kinds are the programs the model knows. Every other program is Unknown.
// The table is made on first use, not when the program starts.
var kinds = sync.OnceValue(func() map[string]Kind {
	kinds := map[string]Kind{}
	add := func(k Kind, names string) {
		for _, n := range strings.Fields(names) {
			kinds[n] = k
		}
	}
	add(Pure, `echo printf true false : test [ sleep date id whoami uname hostname nproc seq yes expr
		basename dirname printenv pwd type which arch getconf locale tty logname groups users
		getent nologin`)
	add(Builtin, `cd pushd popd export unset set shopt umask ulimit alias unalias exit return read
		readarray mapfile getopts shift hash enable bind declare typeset local readonly let wait
		disown suspend dirs logout times fc history jobs fg bg source . exec trap eval builtin command
		kill`)
	add(Files, `cp mv rm rmdir unlink mkdir ln chmod chown chgrp touch install tar gzip gunzip zcat bzip2
		bunzip2 bzcat xz unxz xzcat lzma unlzma zstd unzstd unzip zip 7z cat head tail sed awk gawk
		mawk nawk grep egrep fgrep cut sort uniq tr wc ls stat file readlink realpath du df tee diff
		cmp md5sum sha1sum sha224sum sha256sum sha384sum sha512sum b2sum base64 base32 mktemp
		truncate dd patch rsync sync chattr lsattr setcap getcap strip ldd ldconfig
		update-ca-certificates c_rehash openssl gpg gpgv apt-key dpkg-deb rpm2cpio cpio xxd od
		hexdump jq yq envsubst iconv column fold fmt nl paste join split csplit tac rev shuf comm
		tsort sum cksum numfmt mkfifo mknod find xargs ln locale-gen localedef update-locale
		update-alternatives ssh-keygen ssh-keyscan tzdata-config tic infocmp gzexe
		dpkg-reconfigure a2enmod a2dismod a2ensite a2dissite a2enconf a2disconf update-rc.d
		update-mime-database fc-cache glib-compile-schemas gtk-update-icon-cache install-info
		mandb setfacl getfacl`)
	add(Fetch, `curl wget git svn hg aria2c`)
	add(Users, `useradd userdel usermod groupadd groupdel groupmod adduser addgroup deluser
		delgroup passwd chpasswd chsh chfn newusers gpasswd chage`)
	add(Compiler, `gcc g++ cc c++ clang clang++ ld ld.gold ld.lld as ar ranlib nm objcopy objdump
		javac jar rustc gfortran cpp`)
	add(Packages, `apt-get apt aptitude apt-cache apt-mark apt-config dpkg dpkg-query dpkg-divert
		apk yum dnf dnf5 microdnf tdnf zypper rpm pip pip3 uv pipx poetry pipenv conda mamba
		micromamba npm yarn pnpm bun corepack gem bundle bundler composer go cargo rustup
		mvn mvnw gradle gradlew dotnet mix pecl opam cabal stack luarocks cpanm nuget`)
	return kinds
})

// KindOf says what the model knows of a program, by its base name.
func KindOf(name string) Kind {
	if k, ok := kinds()[name]; ok {
		return k
	}
	if isPip(name) {
		return Packages
	}
	return Unknown
}

// isPip tells whether a program is pip under a versioned name: pip3, pip3.12.
func isPip(name string) bool {
	return strings.HasPrefix(name, "pip") && strings.Trim(name[3:], "0123456789.") == ""
}

// binDirs are where a system's programs live: a command named by a path
// there is the program of that name; anywhere else it is a file of the
// image or the context, which the model cannot read.
var binDirs = []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin",
	"/usr/local/go/bin", "/usr/local/cargo/bin", "/opt/conda/bin", "/usr/local/bundle/bin"}

// opaqueProgram says why the model cannot see what a command runs, or "".
func opaqueProgram(cmd *Cmd, funcs map[string]bool) string {
	name := cmd.Prog.Text
	if strings.Contains(name, "/") {
		dir := path.Dir(path.Clean(name))
		known := false
		for _, d := range binDirs {
			known = known || dir == d
		}
		if !known {
			return name + " is a file of the image or the build context"
		}
	}
	if funcs[cmd.Name] && !strings.Contains(name, "/") {
		return "" // a function of the program: its commands are read where it is defined
	}
	switch KindOf(cmd.Name) {
	case Unknown:
		if isPython(cmd.Name) {
			return pythonOpaque(cmd)
		}
		return cmd.Name + " is a program the model does not know"
	case Builtin:
		if cmd.Name == "source" || cmd.Name == "." {
			return cmd.Name + " reads a file into the shell"
		}
	case Packages:
		return projectCode(cmd)
	}
	return ""
}

// pythonOpaque tells why a python command is opaque: anything but
// python -m venv, python --version.
func pythonOpaque(cmd *Cmd) string {
	if len(cmd.Args) >= 2 && cmd.Args[0].Is("-m") && (cmd.Args[1].Is("venv") || cmd.Args[1].Is("ensurepip")) {
		return ""
	}
	if len(cmd.Args) == 1 && (cmd.Args[0].Is("--version") || cmd.Args[0].Is("-V")) {
		return ""
	}
	return cmd.Name + " runs Python code"
}

// projectCode tells why a package manager's or toolchain's command runs the
// project's own code (a script of package.json, a build script, a test),
// which the model cannot see; "" when it only installs or builds.
//
// The install hooks of published packages (dpkg maintainer scripts, npm
// install scripts of dependencies, setup.py of a package from an index) are
// taken as the package manager's own work: they install into the places
// the table names, and run no other package manager.
func projectCode(cmd *Cmd) string {
	verb := firstOperand(cmd.Args)
	name := cmd.Name
	if isPip(name) {
		name = "pip"
	}
	switch name {
	case "npm", "pnpm", "bun":
		switch verb {
		case "run", "run-script", "rum", "urn", "exec", "x", "start", "test", "t", "tst", "restart", "stop", "dlx", "explore", "create", "init", "pack", "publish":
			return cmd.Name + " " + verb + " runs the project's scripts"
		}
		if cmd.Name != "npm" && verb != "" && !knownJSVerbs[verb] {
			return cmd.Name + " " + verb + " runs a script of package.json"
		}
	case "yarn":
		if verb != "" && !knownJSVerbs[verb] {
			return "yarn " + verb + " runs a script of package.json"
		}
		if verb == "run" || verb == "exec" || verb == "dlx" || verb == "start" || verb == "test" || verb == "create" {
			return "yarn " + verb + " runs the project's scripts"
		}
	case "go":
		switch verb {
		case "run", "test", "generate", "tool":
			return "go " + verb + " runs the project's code"
		}
	case "cargo":
		switch verb {
		case "build", "b", "run", "r", "test", "t", "bench", "check", "c", "install", "doc":
			return "cargo " + verb + " runs the project's build scripts"
		}
	case "mvn", "mvnw", "gradle", "gradlew":
		if verb != "" || len(cmd.Args) > 0 {
			return cmd.Name + " runs the project's build, whose plugins and scripts can do anything"
		}
	case "dotnet":
		switch verb {
		case "build", "run", "test", "publish", "pack", "msbuild", "exec", "tool":
			return "dotnet " + verb + " runs the project's build"
		}
	case "mix", "pecl", "opam", "cabal", "stack", "luarocks", "cpanm", "rustup", "corepack":
		return cmd.Name + " runs code the model does not follow"
	case "pip", "pipx", "uv":
		if localInstall(cmd) {
			return cmd.Name + " installs a local project, running its build"
		}
		if cmd.Name == "uv" && (verb == "run" || verb == "tool") {
			return "uv " + verb + " runs the project's code"
		}
	case "poetry", "pipenv":
		if verb == "run" || verb == "shell" {
			return cmd.Name + " " + verb + " runs the project's code"
		}
	case "bundle", "bundler":
		if verb == "exec" {
			return "bundle exec runs the project's code"
		}
	case "composer":
		if verb == "run-script" || verb == "run" || verb == "exec" || verb == "create-project" {
			return "composer " + verb + " runs the project's scripts"
		}
	case "conda", "mamba", "micromamba":
		if verb == "run" {
			return cmd.Name + " run runs a program"
		}
	case "dpkg":
		if cmd.HasFlag("--install", "-i", "--unpack") {
			return "" // a local package: its maintainer scripts are the package's
		}
	}
	return ""
}

// knownJSVerbs are the commands of yarn, pnpm and bun that are not scripts
// of package.json.
var knownJSVerbs = map[string]bool{
	"install": true, "i": true, "add": true, "remove": true, "rm": true, "uninstall": true, "un": true,
	"ci": true, "update": true, "up": true, "upgrade": true, "cache": true, "store": true, "config": true,
	"global": true, "info": true, "list": true, "ls": true, "why": true, "outdated": true, "audit": true,
	"fetch": true, "prune": true, "link": true, "unlink": true, "import": true, "version": true,
	"versions": true, "login": true, "logout": true, "set": true, "policies": true, "workspaces": true,
	"autoclean": true, "check": true, "licenses": true, "owner": true, "tag": true, "team": true,
	"help": true, "dedupe": true, "rebuild": true, "clean-install": true, "isntall": true,
	"--version": true, "-v": true, "--help": true, "-h": true,
}

// localInstall tells whether a pip or uv install installs a local project
// (., a folder, -e), whose build runs its own code.
func localInstall(cmd *Cmd) bool {
	verb := firstOperand(cmd.Args)
	if cmd.Name == "uv" {
		if verb != "pip" {
			return false
		}
	} else if verb != "install" {
		return false
	}
	var valued []string // flags whose next word is their value, not a package
	if isPip(cmd.Name) {
		valued = ManagerNamed("pip").ValueFlags
	} else if m := ManagerNamed(cmd.Name); m != nil {
		valued = m.ValueFlags
	}
	for k := 0; k < len(cmd.Args); k++ {
		v, ok := cmd.Args[k].Value()
		if !ok {
			continue
		}
		if v != "-e" && v != "--editable" && slices.Contains(valued, v) {
			k++ // -r ./requirements.txt names a file of requirements, no project
			continue
		}
		if v == "-e" || v == "--editable" || strings.HasPrefix(v, "--editable=") ||
			v == "." || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "../") ||
			strings.HasPrefix(v, "/") || strings.HasPrefix(v, "file:") {
			return true
		}
	}
	return false
}

// firstOperand is the first argument that is not an option.
func firstOperand(args []Word) string {
	for _, a := range args {
		v, ok := a.Value()
		if !ok {
			return ""
		}
		if !strings.HasPrefix(v, "-") {
			return v
		}
	}
	return ""
}
