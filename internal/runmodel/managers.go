package runmodel

import (
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Manager is what dfopt knows of one package manager or toolchain: how to
// read its command line, where it keeps caches and indexes, and what keeps
// them out of the image. Every rule reads this table; none keeps its own.
type Manager struct {
	Name     string   // apt, apk, dnf, …
	Commands []string // program names that run it

	// ValueFlags take the next word as their value (so it is no verb).
	ValueFlags []string
	// Install are the verbs that fetch and install packages.
	Install []string
	// Remove are the verbs that remove packages.
	Remove []string
	// IndexCommands are commands of the manager that read the index
	// whatever their verb (apt-cache).
	IndexCommands []string
	// Refresh are the verbs that fetch the package index.
	Refresh []string
	// RefreshFlags make a command of any verb fetch the index first (apk
	// -U; apk reads --update as --update-cache, its options taking any
	// unambiguous prefix).
	RefreshFlags []string
	// AutoRefresh are the verbs that fetch the index into the cache
	// themselves when it is missing (or older than the manager's limit), and
	// leave it there as a Refresh does: apk add, upgrade and fix.
	AutoRefresh []string
	// ReadIndex are the verbs that read the package index a Refresh left.
	ReadIndex []string
	// Prompt are the verbs that stop at a confirmation prompt without Yes.
	Prompt []string
	// Yes are the flags that answer the prompt.
	Yes []string

	// Caches are where it keeps what it downloads, and its indexes.
	Caches []Cache
	// NoCache is the flag that keeps the cache out of the image, if any,
	// and NoCacheEnv the variables that do so with any value.
	NoCache    string
	NoCacheEnv []string
	// NoCacheAbbrev is the shortest abbreviation of NoCache the program
	// takes, for programs that accept any unambiguous prefix of a long
	// option (pip, through optparse: --no-cache is --no-cache-dir).
	NoCacheAbbrev string
	// Clean is the command (after the program's name) that empties its
	// caches in the image.
	Clean string
	// Offline are flags, environment variables (NAME or NAME=value) and
	// config-file settings with which a command installs from the cache
	// alone: after them the cache must stay.
	OfflineFlags []string
	OfflineEnv   []string
	// OfflineConfig are the config files (relative to the working folder,
	// or absolute, "~/" for the home folder) and the setting that makes
	// installs offline.
	OfflineConfig  []string
	OfflineSetting string
	// Produces are the folders an install writes in the project folder.
	Produces []string
	// DepsOnly are the commands (a verb, and an operand after it) that fetch
	// or build a project's dependencies without its code, from its
	// manifests or a recipe (go mod download, cargo chef cook): a build of
	// the whole project after one finds them done.
	DepsOnly []string
	// DirFlags are the ValueFlags whose value is the project's folder, in
	// place of the working directory (npm --prefix, yarn --cwd, composer
	// --working-dir, go -C).
	DirFlags []string

	// For a manager that links its installs from a store (pnpm): Resolve
	// are the verbs that resolve versions against the registry, whose
	// metadata it keeps in a cache; Prune the verbs, besides Remove, that
	// take packages out of the project; ProdFlags the flags with which an
	// install leaves the development dependencies out (and takes them out
	// of the project). ImportSetting is the setting (--NAME, or the
	// npm_config_NAME variable) that says how installs bring the store's
	// files into the project, and CopyImports its values that make a
	// second copy of them instead of hard links.
	Resolve       []string
	Prune         []string
	ProdFlags     []string
	ImportSetting string
	CopyImports   []string

	// How its install commands name what they install, for telling an
	// install of named packages from the network (which reads no file of
	// the image) from one of local files:
	// PathFlags and TextFlags are the ValueFlags whose value is a path, or
	// text that may hold paths (a URL, a key=value option); the others take
	// names. FileFlags make it read local files (pip -r, -c, -e), also in a
	// cluster of short options (-qr). PackageName matches a package given by
	// name; URLs says packages may also be URLs; Archives are the suffixes
	// of local package files. GlobalOnly says an install writes the working
	// folder unless it is global (-g). Zone lists where installs write.
	PathFlags, TextFlags, FileFlags []string
	PackageName                     func() *regexp.Regexp
	URLs                            bool
	Archives                        []string
	GlobalOnly                      bool
	Zone                            []string
}

// SystemZone is where system package managers and their maintainer scripts
// may write (openSUSE's apache2 fills /srv/www); language package managers
// write there and in /home as well.
var SystemZone = []string{
	"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/opt",
	"/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var",
}

var langZone = append(slices.Clone(SystemZone), "/home")

// InstallVerbs are the verbs an install footprint covers: installs,
// removals, index refreshes and clean-ups.
func (m *Manager) InstallVerbs() []string {
	out := append(append(append(slices.Clone(m.Install), m.Remove...), m.Refresh...), "clean", "autoclean", "cc")
	return out
}

// ValueKind says what the value of a valued flag is: "path", "text" or "name".
func (m *Manager) ValueKind(flag string) string {
	switch {
	case slices.Contains(m.PathFlags, flag):
		return "path"
	case slices.Contains(m.TextFlags, flag):
		return "text"
	}
	return "name"
}

// ReadsFiles tells whether a flag makes the command read local files the
// model does not follow (pip -r requirements.txt, also -qr).
func (m *Manager) ReadsFiles(flag string) bool {
	for _, f := range m.FileFlags {
		if flag == f || strings.HasPrefix(f, "--") && strings.HasPrefix(flag, f+"=") {
			return true
		}
		if len(f) == 2 && !strings.HasPrefix(flag, "--") && strings.HasPrefix(flag, "-") && strings.Contains(flag[1:], f[1:]) {
			return true
		}
	}
	return false
}

// Cache is one place a manager keeps files that the image does not need.
type Cache struct {
	// Dir is the folder: absolute, or "~/…" in the home folder of the user
	// that runs the manager.
	Dir string
	// Env are the variables that move it: NAME (the folder is the value) or
	// NAME/sub (the folder sub inside the value).
	Env []string
	// Index says it holds the package index, which later commands of the
	// manager read without fetching it (apt's lists, apk's index).
	Index bool
	// Shared says it is another tool's folder that this one may fill too
	// (yum and dnf): removing it counts as a clean-up, but it is not the
	// tool's own to mount.
	Shared bool
}

// Managers is the table.
var Managers = []*Manager{
	{
		Name:          "apt",
		Commands:      []string{"apt-get", "apt", "aptitude", "apt-cache", "apt-mark"},
		IndexCommands: []string{"apt-cache", "apt-mark"},
		ValueFlags: []string{"-o", "--option", "-c", "--config-file", "-t", "--target-release", "--default-release",
			"-a", "--host-architecture", "-p", "--pkg-cache", "--src-cache"},
		Install: []string{"install", "reinstall", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "satisfy"},
		Remove:  []string{"remove", "purge", "autoremove", "autopurge"},
		Refresh: []string{"update"},
		// Every command that opens apt's package cache builds it from the
		// lists: removals too (their planner log and binary caches record it).
		ReadIndex: []string{"install", "reinstall", "upgrade", "dist-upgrade", "full-upgrade", "build-dep", "satisfy", "source", "download", "changelog", "policy", "search", "show", "showpkg", "madison", "depends", "rdepends", "list", "showsrc", "dump", "dumpavail", "pkgnames", "unmet", "stats", "check", "indextargets",
			"remove", "purge", "autoremove", "autopurge", "markauto", "unmarkauto", "moo"},
		Prompt: []string{"install", "reinstall", "upgrade", "dist-upgrade", "full-upgrade", "remove", "purge", "autoremove", "autopurge", "build-dep", "satisfy"},
		Yes:    []string{"-y", "--yes", "--assume-yes", "-qq", "-q=2", "--quiet=2", "--force-yes", "-s", "--simulate", "--just-print", "--dry-run", "--recon", "--no-act"},
		Caches: []Cache{
			{Dir: "/var/lib/apt/lists", Index: true},
			{Dir: "/var/cache/apt"},
		},
		Clean:       "clean",
		PathFlags:   []string{"-c", "--config-file", "-p", "--pkg-cache", "--src-cache"},
		TextFlags:   []string{"-o", "--option"},
		PackageName: lazyRegexp(`^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]*)?$`),
		Archives:    []string{".deb"},
		Zone:        SystemZone,
	},
	{
		Name:     "apk",
		Commands: []string{"apk"},
		ValueFlags: []string{"-X", "--repository", "-p", "--root", "--arch", "--cache-dir", "--keys-dir",
			"--repositories-file", "--wait", "--timeout", "--cache-max-age", "-t", "--virtual"},
		Install:      []string{"add", "upgrade", "fix"},
		Remove:       []string{"del"},
		Refresh:      []string{"update"},
		RefreshFlags: []string{"-U", "--update-cache", "--update"},
		// apk's commands that open the database to change it fetch a
		// missing index (apk del does not); those that only read it read
		// what is cached. apk index reads no repository.
		AutoRefresh:  []string{"add", "upgrade", "fix"},
		ReadIndex:    []string{"add", "upgrade", "fix", "search", "list", "fetch", "policy", "dot", "info", "version"},
		Caches:       []Cache{{Dir: "/var/cache/apk", Index: true}, {Dir: "/etc/apk/cache", Index: true}},
		NoCache:      "--no-cache",
		OfflineFlags: []string{"--no-network"},
		PathFlags:    []string{"-p", "--root", "--keys-dir", "--repositories-file", "--cache-dir"},
		TextFlags:    []string{"-X", "--repository"},
		PackageName:  lazyRegexp(`^([a-z0-9]+:)?\.?[A-Za-z0-9][A-Za-z0-9_.+-]*(@[A-Za-z0-9_-]+)?([<>=~]{1,2}[A-Za-z0-9._+~-]*)?$`),
		Archives:     []string{".apk"},
		Zone:         SystemZone,
	},
	rpmFamily("yum", []string{"yum"}, true, Cache{Dir: "/var/cache/yum", Index: true}, Cache{Dir: "/var/cache/dnf", Index: true, Shared: true}),
	rpmFamily("dnf", []string{"dnf", "dnf5"}, true, Cache{Dir: "/var/cache/dnf", Index: true}, Cache{Dir: "/var/cache/libdnf5", Index: true}, Cache{Dir: "/var/cache/yum", Index: true, Shared: true}),
	rpmFamily("microdnf", []string{"microdnf"}, false, Cache{Dir: "/var/cache/yum", Index: true}),
	rpmFamily("tdnf", []string{"tdnf"}, true, Cache{Dir: "/var/cache/tdnf", Index: true}),
	{
		Name:     "zypper",
		Commands: []string{"zypper"},
		ValueFlags: []string{"-c", "--config", "-D", "--reposd-dir", "-C", "--cache-dir", "--raw-cache-dir", "--solv-cache-dir",
			"--pkg-cache-dir", "-R", "--root", "--installroot", "-s", "--table-style", "-p", "--plus-repo",
			"--plus-content", "--userdata", "--releasever"},
		Install:      []string{"install", "in", "update", "up", "patch", "dist-upgrade", "dup", "source-install", "si", "install-new-recommends", "inr"},
		Remove:       []string{"remove", "rm"},
		Refresh:      []string{"refresh", "ref"},
		Prompt:       []string{"install", "in", "remove", "rm", "update", "up", "patch", "dist-upgrade", "dup"},
		Yes:          []string{"-n", "--non-interactive", "-y", "--no-confirm"},
		Caches:       []Cache{{Dir: "/var/cache/zypp", Index: true}},
		Clean:        "clean -a",
		OfflineFlags: []string{"--no-refresh"},
		PathFlags:    []string{"--root", "-R", "--config", "-c", "--installroot", "-D", "--reposd-dir", "-C", "--cache-dir", "--raw-cache-dir", "--solv-cache-dir", "--pkg-cache-dir"},
		PackageName:  rpmPackageName,
		Archives:     []string{".rpm"},
		Zone:         SystemZone,
	},
	{
		Name:     "pip",
		Commands: []string{"pip", "pip3"},
		ValueFlags: []string{"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target",
			"--prefix", "--root", "--cache-dir", "--log", "--report", "--cert", "--client-cert", "--src", "-b", "--build",
			"--python", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--proxy", "--trusted-host",
			"--platform", "--python-version", "--implementation", "--abi", "--upgrade-strategy", "--progress-bar",
			"--timeout", "--retries", "--exists-action", "--root-user-action", "--only-binary", "--no-binary",
			"--use-feature", "--use-deprecated", "-C", "--config-settings", "--global-option", "--install-option"},
		Install:        []string{"install", "download", "wheel"},
		Remove:         []string{"uninstall"},
		Caches:         []Cache{{Dir: "~/.cache/pip", Env: []string{"PIP_CACHE_DIR", "XDG_CACHE_HOME/pip"}}},
		NoCache:        "--no-cache-dir",
		NoCacheAbbrev:  "--no-ca", // --no-c could be --no-clean, --no-color, --no-compile
		NoCacheEnv:     []string{"PIP_NO_CACHE_DIR"},
		Clean:          "cache purge",
		OfflineFlags:   []string{"--no-index"},
		OfflineEnv:     []string{"PIP_NO_INDEX"},
		OfflineConfig:  []string{"/etc/pip.conf", "~/.pip/pip.conf", "~/.config/pip/pip.conf"},
		OfflineSetting: "no-index",
		PathFlags: []string{"-t", "--target", "--prefix", "--root", "--cache-dir", "--log", "--report",
			"--cert", "--client-cert", "--src", "-b", "--build", "--python"},
		TextFlags: []string{"-f", "--find-links", "-i", "--index-url", "--extra-index-url", "--proxy",
			"-C", "--config-settings", "--global-option", "--install-option"},
		FileFlags:   []string{"-r", "-c", "-e", "--requirement", "--constraint", "--editable"},
		PackageName: lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._ -]*\])?( *(===|==|>=|<=|~=|!=|<|>) *[A-Za-z0-9.*+!_-]*)?( *, *(===|==|>=|<=|~=|!=|<|>) *[A-Za-z0-9.*+!_-]*)*$`),
		URLs:        true,
		Archives:    []string{".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".egg"},
		Zone:        langZone,
	},
	{
		Name:         "uv",
		Commands:     []string{"uv"},
		ValueFlags:   []string{"--directory", "--project", "--cache-dir", "--config-file", "--color", "--python", "-p", "--index-url", "-i", "--extra-index-url", "--find-links", "-f", "-r", "--requirement", "-c", "--constraint", "--target", "--prefix"},
		Install:      []string{"sync", "add", "install", "lock"},
		Remove:       []string{"remove", "uninstall"},
		Caches:       []Cache{{Dir: "~/.cache/uv", Env: []string{"UV_CACHE_DIR", "UV_HOME/cache", "XDG_CACHE_HOME/uv"}}},
		NoCache:      "--no-cache",
		NoCacheEnv:   []string{"UV_NO_CACHE"},
		Clean:        "cache clean",
		OfflineFlags: []string{"--offline"},
		OfflineEnv:   []string{"UV_OFFLINE"},
		Produces:     []string{".venv"},
		DirFlags:     []string{"--directory", "--project"},
	},
	{
		Name:       "poetry",
		Commands:   []string{"poetry"},
		ValueFlags: []string{"--directory", "-C", "--project", "-P", "--with", "--without", "--only", "-E", "--extras"},
		Install:    []string{"install", "add", "update", "sync", "lock"},
		Remove:     []string{"remove"},
		Caches:     []Cache{{Dir: "~/.cache/pypoetry", Env: []string{"POETRY_CACHE_DIR", "XDG_CACHE_HOME/pypoetry"}}},
		NoCache:    "--no-cache",
		Clean:      "cache clear --all .",
		Produces:   []string{".venv"},
		DirFlags:   []string{"--directory", "-C", "--project", "-P"},
	},
	{
		Name:     "pipenv",
		Commands: []string{"pipenv"},
		Install:  []string{"install", "sync", "update", "lock"},
		Remove:   []string{"uninstall"},
		Caches:   []Cache{{Dir: "~/.cache/pipenv", Env: []string{"PIPENV_CACHE_DIR", "XDG_CACHE_HOME/pipenv"}}, {Dir: "~/.cache/pip", Env: []string{"PIP_CACHE_DIR", "XDG_CACHE_HOME/pip"}}},
		Produces: []string{".venv"},
	},
	{
		Name:         "conda",
		Commands:     []string{"conda", "mamba", "micromamba"},
		ValueFlags:   []string{"-n", "--name", "-p", "--prefix", "-c", "--channel", "-f", "--file"},
		Install:      []string{"install", "create", "update", "upgrade"},
		Remove:       []string{"remove", "uninstall"},
		Clean:        "clean -afy",
		OfflineFlags: []string{"--offline", "--use-index-cache"},
		OfflineEnv:   []string{"CONDA_OFFLINE"},
	},
	{
		Name:     "npm",
		Commands: []string{"npm"},
		ValueFlags: []string{"--prefix", "-C", "--cache", "--registry", "--userconfig", "--globalconfig", "--loglevel",
			"-w", "--workspace", "--omit", "--include", "--location", "--tag"},
		Install: []string{"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall", "add",
			"ci", "clean-install", "ic", "install-clean", "isntall-clean", "install-test", "it", "install-ci-test", "cit",
			"update", "up", "upgrade", "udpate"},
		Remove:         []string{"uninstall", "remove", "rm", "r", "un", "unlink", "prune"},
		Caches:         []Cache{{Dir: "~/.npm", Env: []string{"npm_config_cache", "NPM_CONFIG_CACHE"}}},
		Clean:          "cache clean --force",
		OfflineFlags:   []string{"--offline"},
		OfflineEnv:     []string{"npm_config_offline", "NPM_CONFIG_OFFLINE"},
		OfflineConfig:  []string{".npmrc", "~/.npmrc", "/usr/local/etc/npmrc", "/etc/npmrc"},
		OfflineSetting: "offline",
		Produces:       []string{"node_modules"},
		PathFlags:      []string{"--prefix", "-C", "--cache", "--userconfig", "--globalconfig"},
		DirFlags:       []string{"--prefix", "-C"},
		TextFlags:      []string{"--registry"},
		PackageName:    lazyRegexp(`^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*(@[A-Za-z0-9.^~<>=*| -]*)?$`),
		GlobalOnly:     true,
		Zone:           langZone,
	},
	{
		Name:     "yarn",
		Commands: []string{"yarn"},
		ValueFlags: []string{"--cwd", "--cache-folder", "--modules-folder", "--network-timeout", "--mutex", "--registry",
			"--global-folder", "--link-folder", "--network-concurrency", "--use-yarnrc"},
		Install:        []string{"install", "add", "upgrade", "import"},
		Remove:         []string{"remove"},
		Caches:         []Cache{{Dir: "/usr/local/share/.cache/yarn", Env: []string{"YARN_CACHE_FOLDER"}}, {Dir: "~/.cache/yarn", Env: []string{"YARN_CACHE_FOLDER"}}},
		Clean:          "cache clean",
		OfflineFlags:   []string{"--offline"},
		OfflineEnv:     []string{"YARN_OFFLINE", "npm_config_offline", "NPM_CONFIG_OFFLINE"},
		OfflineConfig:  []string{".yarnrc", "~/.yarnrc", ".npmrc", "~/.npmrc"},
		OfflineSetting: "offline",
		Produces:       []string{"node_modules"},
		DirFlags:       []string{"--cwd"},
	},
	{
		Name:           "pnpm",
		Commands:       []string{"pnpm"},
		ValueFlags:     []string{"--dir", "-C", "--filter", "-F", "--store-dir", "--reporter", "--config-dir", "--package-import-method", "--cache-dir", "--virtual-store-dir"},
		Install:        []string{"install", "i", "add", "update", "up", "upgrade", "fetch"},
		Remove:         []string{"remove", "rm", "uninstall", "un"},
		Caches:         []Cache{{Dir: "~/.local/share/pnpm/store", Env: []string{"npm_config_store_dir", "NPM_CONFIG_STORE_DIR", "PNPM_HOME/store", "XDG_DATA_HOME/pnpm/store"}}, {Dir: "~/.pnpm-store"}},
		Clean:          "store prune",
		OfflineFlags:   []string{"--offline"},
		OfflineEnv:     []string{"npm_config_offline", "NPM_CONFIG_OFFLINE"},
		OfflineConfig:  []string{".npmrc", "~/.npmrc"},
		OfflineSetting: "offline",
		Produces:       []string{"node_modules"},
		Resolve:        []string{"add", "update", "up", "upgrade"},
		Prune:          []string{"prune"},
		ProdFlags:      []string{"--prod", "-P", "--production"},
		ImportSetting:  "package-import-method",
		CopyImports:    []string{"copy", "clone", "clone-or-copy"},
		DirFlags:       []string{"--dir", "-C"},
	},
	{
		Name:       "bun",
		Commands:   []string{"bun"},
		ValueFlags: []string{"--cwd"},
		Install:    []string{"install", "i", "add"},
		Remove:     []string{"remove", "rm"},
		Caches:     []Cache{{Dir: "~/.bun/install/cache", Env: []string{"BUN_INSTALL_CACHE_DIR"}}},
		Produces:   []string{"node_modules"},
		DirFlags:   []string{"--cwd"},
	},
	{
		Name:     "gem",
		Commands: []string{"gem"},
		ValueFlags: []string{"-v", "--version", "-P", "--trust-policy", "--platform", "--document", "-i", "--install-dir",
			"-n", "--bindir", "--build-root", "--file", "--source", "-s"},
		Install:     []string{"install", "i", "update"},
		Remove:      []string{"uninstall"},
		Caches:      []Cache{{Dir: "~/.gem"}},
		PathFlags:   []string{"-i", "--install-dir", "-n", "--bindir", "--build-root", "--file"},
		TextFlags:   []string{"--source", "-s"},
		PackageName: lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9._-]*(:[0-9A-Za-z.,<>=~ -]+)?$`),
		Archives:    []string{".gem"},
		Zone:        langZone,
	},
	{
		Name:     "bundler",
		Commands: []string{"bundle", "bundler"},
		ValueFlags: []string{"--gemfile", "--path", "--jobs", "-j", "--retry", "--without", "--with", "--binstubs",
			"--shebang", "--standalone", "--trust-policy"},
		Install:      []string{"install", "update"},
		Caches:       []Cache{{Dir: "/usr/local/bundle/cache"}},
		OfflineFlags: []string{"--local", "--prefer-local"},
		Produces:     []string{"vendor/bundle", ".bundle"},
	},
	{
		Name:       "composer",
		Commands:   []string{"composer", "composer.phar"},
		ValueFlags: []string{"-d", "--working-dir"},
		Install:    []string{"install", "require", "update", "i", "u"},
		Remove:     []string{"remove"},
		Caches:     []Cache{{Dir: "~/.composer/cache", Env: []string{"COMPOSER_CACHE_DIR", "COMPOSER_HOME/cache"}}, {Dir: "~/.cache/composer", Env: []string{"COMPOSER_CACHE_DIR", "COMPOSER_HOME/cache"}}},
		NoCache:    "--no-cache",
		NoCacheEnv: []string{"COMPOSER_CACHE_DIR"},
		Clean:      "clear-cache",
		Produces:   []string{"vendor"},
		DirFlags:   []string{"-d", "--working-dir"},
	},
	{
		Name:       "go",
		Commands:   []string{"go"},
		ValueFlags: []string{"-C", "-o", "-p", "-tags", "-ldflags", "-gcflags", "-asmflags", "-mod", "-modfile", "-pkgdir", "-toolexec", "-exec", "-run", "-bench", "-count", "-timeout", "-coverprofile", "-overlay", "-pgo", "-buildmode", "-compiler", "-installsuffix", "-trimpath=false"},
		Install:    []string{"build", "install", "get", "mod", "test", "run", "vet", "list", "generate", "work"},
		Caches: []Cache{
			{Dir: "~/.cache/go-build", Env: []string{"GOCACHE", "XDG_CACHE_HOME/go-build"}},
			{Dir: "~/go/pkg/mod", Env: []string{"GOMODCACHE", "GOPATH/pkg/mod"}},
		},
		Clean:      "clean -cache -modcache",
		OfflineEnv: []string{"GOPROXY=off"},
		DirFlags:   []string{"-C"},
		DepsOnly:   []string{"mod download"},
	},
	{
		Name:         "maven",
		Commands:     []string{"mvn", "mvnw"},
		DepsOnly:     []string{"dependency:go-offline", "dependency:resolve"},
		Caches:       []Cache{{Dir: "~/.m2/repository"}},
		OfflineFlags: []string{"-o", "--offline"},
		Produces:     []string{"target"},
	},
	{
		Name:         "gradle",
		Commands:     []string{"gradle", "gradlew"},
		ValueFlags:   []string{"-p", "--project-dir", "-b", "--build-file", "-c", "--settings-file", "-x", "--exclude-task", "-g", "--gradle-user-home", "-I", "--init-script"},
		DirFlags:     []string{"-p", "--project-dir"},
		Caches:       []Cache{{Dir: "~/.gradle/caches", Env: []string{"GRADLE_USER_HOME/caches"}}},
		OfflineFlags: []string{"--offline"},
		Produces:     []string{"build", ".gradle"},
	},
	{
		Name:         "cargo",
		Commands:     []string{"cargo"},
		DepsOnly:     []string{"chef cook", "fetch"},
		Caches:       []Cache{{Dir: "~/.cargo/registry", Env: []string{"CARGO_HOME/registry"}}, {Dir: "~/.cargo/git", Env: []string{"CARGO_HOME/git"}}},
		OfflineFlags: []string{"--offline", "--frozen"},
		OfflineEnv:   []string{"CARGO_NET_OFFLINE"},
		Produces:     []string{"target"},
	},
	{
		Name:         "dotnet",
		Commands:     []string{"dotnet"},
		Caches:       []Cache{{Dir: "~/.nuget/packages", Env: []string{"NUGET_PACKAGES"}}},
		OfflineFlags: []string{"--no-restore"},
		Produces:     []string{"obj", "bin"},
	},
	{
		Name:     "mix",
		Commands: []string{"mix"},
		Caches:   []Cache{{Dir: "~/.hex", Env: []string{"HEX_HOME"}}, {Dir: "~/.mix", Env: []string{"MIX_HOME"}}},
		Produces: []string{"deps", "_build"},
	},
}

var rpmValueFlags = []string{"-c", "--config", "-d", "--debuglevel", "-e", "--errorlevel", "-x", "--exclude", "--excludepkgs",
	"--enablerepo", "--disablerepo", "--repo", "--repoid", "--installroot", "--releasever", "--setopt",
	"--downloaddir", "--destdir", "--color", "--rpmverbosity", "-R", "--randomwait", "--disableplugin",
	"--enableplugin", "--forcearch", "--comment", "--repofrompath"}

// rpmFamily is the table's entry of yum, dnf, microdnf or tdnf: one
// command line, their own caches; cacheOnly says -C reads the cache alone.
func rpmFamily(name string, commands []string, cacheOnly bool, caches ...Cache) *Manager {
	m := &Manager{
		Name:        name,
		Commands:    commands,
		ValueFlags:  rpmValueFlags,
		Install:     rpmInstallVerbs,
		Remove:      rpmRemoveVerbs,
		Refresh:     []string{"makecache"},
		Prompt:      rpmPromptVerbs,
		Yes:         []string{"-y", "--assumeyes", "--assumeno"},
		Caches:      caches,
		Clean:       "clean all",
		PathFlags:   rpmPathFlags,
		TextFlags:   []string{"--setopt"},
		PackageName: rpmPackageName,
		URLs:        true,
		Archives:    []string{".rpm"},
		Zone:        SystemZone,
	}
	if cacheOnly {
		m.OfflineFlags = []string{"-C", "--cacheonly"}
	}
	return m
}

var rpmPackageName = lazyRegexp(`^@?[A-Za-z0-9_][A-Za-z0-9_.+ :-]*(\([A-Za-z0-9_:.-]+\))?([<>=]=?[A-Za-z0-9._+~:-]*)?$`)

var rpmPathFlags = []string{"-c", "--config", "--installroot", "--downloaddir", "--destdir"}

var rpmInstallVerbs = []string{"install", "groupinstall", "localinstall", "update", "upgrade", "reinstall", "downgrade", "distro-sync", "update-minimal", "upgrade-minimal", "swap", "builddep"}

var rpmRemoveVerbs = []string{"remove", "erase", "autoremove"}

var rpmPromptVerbs = []string{"install", "groupinstall", "localinstall", "update", "upgrade", "reinstall", "downgrade",
	"remove", "erase", "autoremove", "distro-sync", "update-minimal", "upgrade-minimal", "swap"}

// ManagerOf returns the manager a command runs, or nil.
func ManagerOf(c *Cmd) *Manager {
	if c.Name == "" || c.Opaque && KindOf(c.Name) != Packages {
		return nil
	}
	name := c.Name
	if isPip(name) {
		name = "pip" // pip3, pip3.12
	}
	return managerOf()[name]
}

// managerOf maps each command of the table to its manager, the first that
// names it; made on first use, not when the program starts.
var managerOf = sync.OnceValue(func() map[string]*Manager {
	byCommand := map[string]*Manager{}
	for _, m := range Managers {
		for _, c := range m.Commands {
			if _, ok := byCommand[c]; !ok {
				byCommand[c] = m
			}
		}
	}
	return byCommand
})

// ManagerNamed returns the manager of that name, or nil.
func ManagerNamed(name string) *Manager {
	for _, m := range Managers {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Call is one command of a manager, read with the manager's flags.
type Call struct {
	*Cmd
	M *Manager
	// Verb is the first word that is no option nor an option's value; VerbAt
	// is its index in Args (-1 when there is none, or a word before it is not
	// literal and could be anything).
	Verb   string
	VerbAt int
}

// Read reads a command of the manager.
func (m *Manager) Read(c *Cmd) Call {
	at := m.operandFrom(c, 0)
	call := Call{Cmd: c, M: m, VerbAt: at}
	if at >= 0 {
		call.Verb = c.Arg(at)
	}
	return call
}

// Next returns the index of the first operand after Args[i], or -1.
func (k Call) Next(i int) int {
	if i < 0 {
		return -1
	}
	return k.M.operandFrom(k.Cmd, i+1)
}

// operandFrom returns the index of the first operand of c from start on:
// not an option, nor the value of one of the manager's valued options; -1
// when there is none, or a word before it is not literal.
func (m *Manager) operandFrom(c *Cmd, start int) int {
	for i := start; i < len(c.Args); i++ {
		v, ok := c.Args[i].Value()
		switch {
		case !ok:
			return -1
		case v == "--":
			if i+1 < len(c.Args) {
				if _, ok := c.Args[i+1].Value(); ok {
					return i + 1
				}
			}
			return -1
		case strings.HasPrefix(v, "-") && len(v) > 1:
			if slices.Contains(m.ValueFlags, v) {
				i++
			}
		default:
			return i
		}
	}
	return -1
}

// Dir returns the folder a DirFlag names (--prefix web, --working-dir=/app):
// set is false when there is none; ok is false when its value is not
// known, or the flag comes more than once.
func (k Call) Dir() (dir string, set, ok bool) {
	for i := 0; i < len(k.Args); i++ {
		v, lit := k.Args[i].Value()
		if lit && v == "--" {
			break
		}
		for _, f := range k.M.DirFlags {
			val := ""
			switch {
			case lit && v == f:
				if i+1 >= len(k.Args) {
					return "", true, false
				}
				i++
				val, lit = k.Args[i].Value()
			case strings.HasPrefix(k.Args[i].Text, f+"="):
				val = strings.TrimPrefix(v, f+"=")
			case len(f) == 2 && strings.HasPrefix(k.Args[i].Text, f):
				return "", true, false // -Cweb: a form the model does not read
			default:
				continue
			}
			if !lit || set || val == "" {
				return "", true, false
			}
			dir, set = val, true
			break
		}
	}
	return dir, set, true
}

// DepsOnly tells whether the call fetches or builds a project's
// dependencies alone (see Manager.DepsOnly).
func (k Call) DepsOnly() bool {
	for _, d := range k.M.DepsOnly {
		verb, sub, _ := strings.Cut(d, " ")
		if k.VerbAt >= 0 && k.Verb == verb && (sub == "" || k.Arg(k.Next(k.VerbAt)) == sub) {
			return true
		}
	}
	return false
}

// Installs tells whether the call installs packages.
func (k Call) Installs() bool { return k.VerbAt >= 0 && slices.Contains(k.M.Install, k.Verb) }

// Removes tells whether the call removes packages.
func (k Call) Removes() bool { return k.VerbAt >= 0 && slices.Contains(k.M.Remove, k.Verb) }

// Refreshes tells whether the call fetches the package index.
func (k Call) Refreshes() bool { return k.VerbAt >= 0 && slices.Contains(k.M.Refresh, k.Verb) }

// RefreshFlag tells whether the call has a flag that makes it fetch the
// package index before it does its work (apk -U), whatever its verb.
func (k Call) RefreshFlag() bool {
	return len(k.M.RefreshFlags) > 0 && k.HasFlag(k.M.RefreshFlags...)
}

// FillsIndex tells whether the call may leave the package index in the
// cache: it refreshes it, or its verb fetches the index when none is cached
// (cached says one is); not with the no-cache flag, nor offline. A call
// whose words the model cannot all read could be any.
func (k Call) FillsIndex(cached bool) bool {
	switch {
	case k.NoCacheFlag(), k.Offline():
		return false
	case k.VerbAt < 0:
		return k.AnyUnknownArg()
	}
	return k.Refreshes() || k.RefreshFlag() || !cached && slices.Contains(k.M.AutoRefresh, k.Verb)
}

// ReadsIndex tells whether the call reads the package index from the cache.
func (k Call) ReadsIndex() bool {
	if k.VerbAt < 0 {
		return true // a verb the model cannot read could be anything
	}
	if k.NoCacheFlag() {
		return false
	}
	return slices.Contains(k.M.IndexCommands, k.Name) || slices.Contains(k.M.ReadIndex, k.Verb)
}

// NoCacheFlag tells whether the call has the manager's flag that keeps the
// cache out, written in full or abbreviated as the program allows.
func (k Call) NoCacheFlag() bool {
	if k.M.NoCache == "" {
		return false
	}
	if k.HasFlag(k.M.NoCache) {
		return true
	}
	return k.M.NoCacheAbbrev != "" && k.HasAbbrev(k.M.NoCache, k.M.NoCacheAbbrev)
}

// Resolves tells whether the call resolves versions against the registry
// (not offline), which leaves the registry's metadata in the manager's cache.
func (k Call) Resolves() bool {
	return k.VerbAt >= 0 && slices.Contains(k.M.Resolve, k.Verb) && !k.Offline()
}

// Prunes tells whether the call takes packages out of the project.
func (k Call) Prunes() bool {
	return k.Removes() || k.VerbAt >= 0 && slices.Contains(k.M.Prune, k.Verb)
}

// ProdOnly tells whether the call leaves the development dependencies out.
func (k Call) ProdOnly() bool { return len(k.M.ProdFlags) > 0 && k.HasFlag(k.M.ProdFlags...) }

// ImportMethod returns the value of the manager's ImportSetting flag on the
// call (--NAME=v or --NAME v); ok is false when the call has none or its
// value is not known.
func (k Call) ImportMethod() (string, bool) {
	if k.M.ImportSetting == "" {
		return "", false
	}
	flag := "--" + k.M.ImportSetting
	for i, v := range k.Options() {
		if val, ok := strings.CutPrefix(v, flag+"="); ok {
			return val, true
		}
		if v == flag {
			if i+1 == len(k.Args) {
				return "", false
			}
			return k.Args[i+1].Value()
		}
	}
	return "", false
}

// Answered tells whether the call answers its prompt itself.
func (k Call) Answered() bool {
	for _, y := range k.M.Yes {
		if k.HasFlag(y) {
			return true
		}
		if len(y) == 2 && y[0] == '-' && k.HasShort(y[1]) {
			return true
		}
	}
	return false
}

// Offline tells whether the call installs from the cache alone, through a
// flag or its own environment (NAME=v cmd, env NAME=v cmd).
func (k Call) Offline() bool {
	if k.HasFlag(k.M.OfflineFlags...) {
		return true
	}
	for name, w := range k.Assigns {
		if offlineValue(k.M, name, w) {
			return true
		}
	}
	return false
}

// offlineValue tells whether setting name to w makes the manager offline.
func offlineValue(m *Manager, name string, w Word) bool {
	for _, e := range m.OfflineEnv {
		n, want, hasValue := strings.Cut(e, "=")
		if !strings.EqualFold(n, name) {
			continue
		}
		v, ok := w.Value()
		if !ok {
			return true // a value the model cannot read could be it
		}
		if !hasValue {
			return v != "" && v != "false" && v != "0"
		}
		if strings.Contains(v, strings.TrimPrefix(want, "-")) || v == want {
			return true
		}
	}
	return false
}

// OfflineEnvName tells whether a variable name can make the manager offline.
func (m *Manager) OfflineEnvName(name string) bool {
	for _, e := range m.OfflineEnv {
		n, _, _ := strings.Cut(e, "=")
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// OfflineValue tells whether a variable set to value makes the manager offline.
func (m *Manager) OfflineValue(name, value string, known bool) bool {
	return offlineValue(m, name, Word{Text: value, Lit: known})
}

// lazyRegexp compiles a regular expression on first use rather than when
// the program starts, which most runs never pay for.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
