package main

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/dfopt/dfopt/internal/config"
	"github.com/dfopt/dfopt/internal/flags"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// setFlags checks the flags' values and keeps those given on the command
// line as the last layer of settings, so that they win over the
// configuration files'.
func (c *cli) setFlags(fs *flags.Set, enable, disable []string, merge, largeFile string) error {
	c.opts.Rules = rules.All()
	if _, err := rewrite.Select(rules.All(), enable, disable); err != nil {
		return err
	}
	if fs.Changed("enable") {
		c.flags.Enable = enable
	}
	if fs.Changed("disable") {
		c.flags.Disable = disable
	}
	if fs.Changed("merge") && merge != "" {
		if !slices.Contains(config.MergeValues, merge) {
			return fmt.Errorf("invalid value %q for --merge: use small, all or none", merge)
		}
		c.flags.Merge = &merge
	}
	if fs.Changed("large-file") {
		size, err := rules.ParseSize(largeFile)
		if err != nil {
			return fmt.Errorf("--large-file: %w", err)
		}
		c.flags.LargeFile = &size
	}
	for name, field := range map[string]**bool{"propose": &c.flags.Propose, "cache-mounts": &c.flags.CacheMounts, "dockerignore": &c.flags.Dockerignore} {
		if fs.Changed(name) {
			v, _ := fs.GetBool(name)
			*field = &v
		}
	}
	return nil
}

// configFor returns the configuration of an input: --config's, else the
// .dfopt.yaml above the file, or above the current folder for standard
// input; nil when there is none.
func (c *cli) configFor(name string, file bool) (*config.File, error) {
	switch {
	case c.config != nil:
		return c.config, nil
	case c.finder == nil:
		return nil, nil
	}
	// Inputs are computed side by side (visitAll); the finder's cache is
	// one for all of them.
	c.finderMu.Lock()
	defer c.finderMu.Unlock()
	if file {
		return c.finder.Find(filepath.Dir(name))
	}
	return c.finder.Find(".")
}

// optionsFor returns the options for one input: the configuration's top
// level, its overrides that match the path, then the flags given, each
// winning over the ones before; and the configuration's fail-on list.
func (c *cli) optionsFor(name string, file bool) (rewrite.Options, []string, error) {
	opts := c.opts
	cfg, err := c.configFor(name, file)
	if err != nil {
		return opts, nil, err
	}
	var layers []config.Settings
	var failOn []string
	if cfg != nil {
		path := ""
		if file {
			path = name
		}
		layers = cfg.Layers(path)
		failOn = cfg.FailOn
	}
	err = config.Apply(&opts, rules.All(), append(layers, c.flags)...)
	return opts, failOn, err
}

// badConfig reports a mistake in a configuration file, once however many
// inputs it applies to; the run then stops before it processes any input.
func (c *cli) badConfig(err error) {
	if c.badConfigs == nil {
		c.badConfigs = map[string]bool{}
	}
	if !c.badConfigs[err.Error()] {
		c.badConfigs[err.Error()] = true
		fmt.Fprintln(c.stderr, err)
	}
	c.failed = true
}

// verbosef prints a line on standard error with -v.
func (c *cli) verbosef(format string, args ...any) {
	if c.verbose {
		fmt.Fprintf(c.stderr, format+"\n", args...)
	}
}
