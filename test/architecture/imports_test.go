// Package architecture holds the import rules between the project's parts (docs/architecture.md).
package architecture

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/messenger-operator/messenger-operator"

type pkg struct {
	ImportPath string
	Deps       []string
}

// ours lists every package of the module with the module's packages it depends on, directly or not.
func ours(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Deps", module+"/...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v: %s", err, stderr.String())
	}
	deps := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		var mine []string
		for _, d := range p.Deps {
			if under(d, module) {
				mine = append(mine, strings.TrimPrefix(d, module+"/"))
			}
		}
		deps[strings.TrimPrefix(p.ImportPath, module+"/")] = mine
	}
	return deps
}

func under(path, prefix string) bool { return path == prefix || strings.HasPrefix(path, prefix+"/") }

// rule: the packages under From may depend only on packages under Allowed (nil: none of ours
// beyond From itself), and never on packages under Forbidden.
type rule struct {
	name      string
	from      []string
	allowed   []string
	forbidden []string
}

var rules = []rule{
	{name: "api depends on nothing of ours", from: []string{"api"}, allowed: []string{"api"}},
	{name: "the engine imports only api", from: []string{"internal/handover"}, allowed: []string{"internal/handover", "api"}},
	{name: "the simulator imports nothing of ours", from: []string{"internal/simulator", "cmd/simulator"}, allowed: []string{"internal/simulator", "cmd/simulator"}},
	{name: "the operator never imports the webhook or the engine", from: []string{"controllers", "cmd/manager", "internal/specs"},
		forbidden: []string{"internal/webhook", "internal/handover", "internal/simulator"}},
	{name: "the webhook wing never imports the operator", from: []string{"internal/webhook", "cmd/webhook"},
		forbidden: []string{"controllers", "internal/specs", "internal/simulator"}},
	{name: "the playground talks to the simulator, the API server and the audit log, and holds no handover logic",
		from: []string{"internal/playground", "cmd/playground"}, allowed: []string{"internal/playground", "cmd/playground", "api"}},
	{name: "production code never imports test helpers", from: []string{"api", "controllers", "internal", "cmd"}, forbidden: []string{"test"}},
}

func TestImportRules(t *testing.T) {
	deps := ours(t)
	if len(deps) < 10 {
		t.Fatalf("go list found %d packages", len(deps))
	}
	for _, r := range rules {
		matched := 0
		for p, ds := range deps {
			if !inAny(p, r.from) {
				continue
			}
			matched++
			for _, d := range ds {
				if r.allowed != nil && !inAny(d, r.allowed) {
					t.Errorf("%s: %s imports %s", r.name, p, d)
				}
				if inAny(d, r.forbidden) {
					t.Errorf("%s: %s imports %s", r.name, p, d)
				}
			}
		}
		if matched == 0 {
			t.Errorf("%s: no package matches %v", r.name, r.from)
		}
	}
}

func inAny(p string, prefixes []string) bool {
	for _, pre := range prefixes {
		if under(p, pre) {
			return true
		}
	}
	return false
}
