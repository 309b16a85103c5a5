package main

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// envPrefix starts every environment variable the control plane reads.
//
// Mapping: strip the prefix, lower-case the rest; then "__" separates nesting levels
// (EDGEAUTH_COOKIES__SAME_SITE -> cookies.same_site). A single "_" also works when
// the name is unambiguous, which every key is (EDGEAUTH_COOKIES_SAME_SITE ->
// cookies.same_site, EDGEAUTH_KEYS_KEK -> keys.kek). List values (allowed_origins)
// are comma-separated. EDGEAUTH_CONFIG names the YAML file like --config.
const envPrefix = "EDGEAUTH_"

// envIgnored are EDGEAUTH_ variables that are not configuration keys: the
// configuration file's name, and the variables of the development database
// (EDGEAUTH_CACHE, EDGEAUTH_PG_BIN: `serve --dev` reads them) and of the tests.
var envIgnored = map[string]bool{
	"EDGEAUTH_CONFIG":            true,
	"EDGEAUTH_CACHE":             true,
	"EDGEAUTH_PG_BIN":            true,
	"EDGEAUTH_TEST_DATABASE_URL": true,
}

// flagKeys maps command-line flags to configuration keys. Only flags the user set
// override the file and the environment.
var flagKeys = map[string]string{
	"listen":          "listen",
	"ops-listen":      "ops_listen",
	"public-url":      "public_url",
	"database-url":    "database_url",
	"dev":             "dev",
	"log-level":       "log_level",
	"allowed-origins": "allowed_origins",
	"signup":          "signup",
}

// knownKeys lists every configuration key (dotted koanf path) with its Go type, read
// from config.Config's koanf tags.
func knownKeys() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("koanf")
			if tag == "" {
				continue
			}
			if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
				walk(f.Type, prefix+tag+".")
				continue
			}
			out[prefix+tag] = f.Type
		}
	}
	walk(reflect.TypeOf(config.Config{}), "")
	return out
}

// envKey maps an environment variable name (prefix included) to a configuration key.
func envKey(name string, known map[string]reflect.Type) (string, bool) {
	rest := strings.ToLower(strings.TrimPrefix(name, envPrefix))
	if strings.Contains(rest, "__") {
		k := strings.ReplaceAll(rest, "__", ".")
		_, ok := known[k]
		return k, ok
	}
	for k := range known {
		if strings.ReplaceAll(k, ".", "_") == rest {
			return k, true
		}
	}
	return "", false
}

// loadConfig builds the configuration: defaults, then the YAML file (--config or
// EDGEAUTH_CONFIG), then EDGEAUTH_ variables, then the flags set on the command line;
// then validates it. Unknown keys in the file or the environment are errors (a typo
// must not silently leave a default in place).
func loadConfig(fs *pflag.FlagSet, environ []string) (config.Config, error) {
	known := knownKeys()
	k := koanf.New(".")
	var problems []string

	path, _ := fs.GetString("config")
	if path == "" {
		for _, kv := range environ {
			if v, ok := strings.CutPrefix(kv, "EDGEAUTH_CONFIG="); ok {
				path = v
			}
		}
	}
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return config.Config{}, fmt.Errorf("config file %s: %w", path, err)
		}
		for _, key := range k.Keys() {
			if _, ok := known[key]; !ok {
				problems = append(problems, fmt.Sprintf("config file %s: unknown key %q", path, key))
			}
		}
	}

	err := k.Load(env.Provider(".", env.Opt{
		Prefix:      envPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, v string) (string, any) {
			if envIgnored[name] {
				return "", nil
			}
			key, ok := envKey(name, known)
			if !ok {
				problems = append(problems, fmt.Sprintf("environment: %s is not a configuration variable (see `edgeauth serve --help`)", name))
				return "", nil
			}
			if known[key].Kind() == reflect.Slice {
				var list []any
				for _, p := range strings.Split(v, ",") {
					if p = strings.TrimSpace(p); p != "" {
						list = append(list, p)
					}
				}
				return key, list
			}
			return key, v
		},
	}), nil)
	if err != nil {
		return config.Config{}, fmt.Errorf("environment: %w", err)
	}

	err = k.Load(posflag.ProviderWithFlag(fs, ".", k, func(f *pflag.Flag) (string, any) {
		key, ok := flagKeys[f.Name]
		if !ok || !f.Changed {
			return "", nil
		}
		return key, posflag.FlagVal(fs, f)
	}), nil)
	if err != nil {
		return config.Config{}, fmt.Errorf("flags: %w", err)
	}

	// A duration must be written with its unit ("30s"): YAML reads a bare 30 as a
	// number, which the decoder would take as 30 nanoseconds. A bare 0 is unambiguous.
	for _, key := range k.Keys() {
		if known[key] != reflect.TypeOf(time.Duration(0)) {
			continue
		}
		switch v := k.Get(key).(type) {
		case string:
		case int:
			if v != 0 {
				problems = append(problems, fmt.Sprintf("%s: %d has no unit (write e.g. \"%ds\" or \"%dm\")", key, v, v, v))
			}
		default:
			problems = append(problems, fmt.Sprintf("%s: %v is not a duration (write e.g. \"30s\", \"10m\" or \"24h\")", key, v))
		}
	}

	cfg := config.Default()
	if err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return cfg, errors.New("configuration:\n  - " + strings.Join(problems, "\n  - "))
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// envHelp documents every key with its environment variable, for --help.
func envHelp() string {
	known := knownKeys()
	keys := make([]string, 0, len(known))
	for k := range known {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	width := 0
	for _, k := range keys {
		width = max(width, len(k))
	}
	var b strings.Builder
	b.WriteString("Configuration keys (YAML file key = environment variable):\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-*s %s\n", width, k, envPrefix+strings.ToUpper(strings.ReplaceAll(k, ".", "__")))
	}
	b.WriteString("Nesting uses \"__\"; a single \"_\" works too (EDGEAUTH_KEYS_KEK). Lists are comma-separated.\n" +
		"Precedence: defaults < --config file < environment < flags.\n")
	return b.String()
}

func osEnviron() []string { return os.Environ() }
