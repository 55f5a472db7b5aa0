// Command chartdoc writes the chart's README.md from its Chart.yaml and values.yaml: every value
// with its default and the comment above it, so the README never drifts from the values (run by
// `make chart-docs`; its test fails when the committed README is stale).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

func main() {
	chart := flag.String("chart", "dist/chart", "the chart directory; its README.md is written")
	flag.Parse()
	doc, err := render(*chart)
	if err == nil {
		err = os.WriteFile(filepath.Join(*chart, "README.md"), []byte(doc), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chartdoc:", err)
		os.Exit(1)
	}
}

// row is one value of the table.
type row struct{ key, def, doc string }

// render returns the README of the chart in dir.
func render(dir string) (string, error) {
	var meta struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
		Version     string `yaml:"version"`
		AppVersion  string `yaml:"appVersion"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	if err := yaml.Unmarshal(b, &meta); err != nil {
		return "", fmt.Errorf("reading the chart's Chart.yaml: %w", err)
	}
	if b, err = os.ReadFile(filepath.Join(dir, "values.yaml")); err != nil {
		return "", err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return "", fmt.Errorf("values.yaml: %w", err)
	}
	if len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return "", errors.New("values.yaml: not a mapping")
	}
	var rows []row
	if err := walk(root.Content[0], "", &rows); err != nil {
		return "", err
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, header, meta.Name, meta.Description, meta.Version, meta.AppVersion)
	out.WriteString("| key | default | description |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&out, "| `%s` | %s | %s |\n", r.key, r.def, r.doc)
	}
	return out.String(), nil
}

// walk adds a row for every key under m: mappings with keys are sections (a row when they have
// a comment, then their keys), anything else is a value. Every top-level key must have a comment
// or only documented keys below it.
func walk(m *yaml.Node, prefix string, rows *[]row) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		doc := comment(k.HeadComment)
		if v.Kind == yaml.MappingNode && len(v.Content) > 0 && v.Style&yaml.FlowStyle == 0 {
			if doc != "" {
				*rows = append(*rows, row{key, "", doc})
			}
			n := len(*rows)
			if err := walk(v, key+".", rows); err != nil {
				return err
			}
			if doc == "" {
				for _, r := range (*rows)[n:] {
					if r.doc == "" {
						return fmt.Errorf("values.yaml: %s has no comment, nor has %s", key, r.key)
					}
				}
			}
			continue
		}
		if doc == "" && prefix == "" {
			return fmt.Errorf("values.yaml: %s has no comment", key)
		}
		def, err := defaultOf(v)
		if err != nil {
			return fmt.Errorf("values.yaml: %s: %w", key, err)
		}
		*rows = append(*rows, row{key, def, doc})
	}
	return nil
}

// comment joins the lines of a head comment into one table cell.
func comment(c string) string {
	var lines []string
	for _, l := range strings.Split(c, "\n") {
		if l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "#")); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.ReplaceAll(strings.Join(lines, " "), "|", `\|`)
}

// defaultOf renders a value as compact JSON, the form --set-json takes.
func defaultOf(v *yaml.Node) (string, error) {
	var x any
	if err := v.Decode(&x); err != nil {
		return "", err
	}
	b, err := json.Marshal(x)
	if err != nil {
		return "", err
	}
	return "`" + strings.ReplaceAll(string(b), "|", `\|`) + "`", nil
}

const header = `# %s chart

<!-- Generated from values.yaml by make chart-docs (hack/chartdoc); do not edit. -->

%s

Chart %s, operator %s. The release's chart is ` + "`messenger-operator-X.Y.Z.tgz`" + ` (` + "`make release`" + `
packages it); from a checkout, install ` + "`dist/chart`" + `:

` + "```sh" + `
helm install messenger-operator dist/chart -n messenger-operator-system --create-namespace
` + "```" + `

The CRDs are templates (Helm's ` + "`crds/`" + ` folder is never upgraded), kept when the release is
uninstalled (` + "`crds.keep`" + `). ` + "`helm upgrade`" + ` upgrades them with the manager. ` + "`helm rollback`" + ` rolls
back the manager and its RBAC but is refused the older CRDs (` + "`crds.downgradeGuard`" + `), so stored
objects keep their newer fields: it reports that refusal as its failure, and leaves the objects
only the newer chart has until the next ` + "`helm upgrade`" + `. The webhooks the operator made keep
running through all of it; the manager rolls them to its own image when it starts.

## Values

`
