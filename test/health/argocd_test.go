// Package health tests the health that GitOps tools compute for our kinds: the Argo CD Lua scripts
// shipped in config/argocd.
package health

import (
	"os"
	"path/filepath"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// toLua converts decoded JSON into Lua values the way Argo CD hands objects to health scripts.
func toLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range x {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range x {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(x)
	case float64:
		return lua.LNumber(x)
	case bool:
		return lua.LBool(x)
	default:
		return lua.LNil
	}
}

func runHealth(t *testing.T, script, object string) (status, message string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "argocd", script))
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(object), &obj); err != nil {
		t.Fatal(err)
	}
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj))
	fn, err := L.LoadString(string(src))
	if err != nil {
		t.Fatalf("%s does not load: %v", script, err)
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		t.Fatalf("%s fails: %v", script, err)
	}
	res, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("%s returned %v, want a table", script, L.Get(-1))
	}
	return res.RawGetString("status").String(), res.RawGetString("message").String()
}

func TestArgoCDHealth(t *testing.T) {
	cases := []struct {
		name, script, object, want string
	}{
		{"page never reconciled", "messengerpage-health.lua",
			`{metadata: {generation: 1}, status: {observedGeneration: -1}}`, "Progressing"},
		{"page without status", "messengerpage-health.lua", `{metadata: {generation: 1}}`, "Progressing"},
		{"page older generation", "messengerpage-health.lua",
			`{metadata: {generation: 3}, status: {observedGeneration: 2, conditions: [{type: Ready, status: "True"}]}}`, "Progressing"},
		{"page rolling out", "messengerpage-health.lua",
			`{metadata: {generation: 2}, status: {observedGeneration: 2, conditions: [{type: Ready, status: "False", reason: Progressing}, {type: Reconciling, status: "True"}]}}`, "Progressing"},
		{"page ready", "messengerpage-health.lua",
			`{metadata: {generation: 2}, status: {observedGeneration: 2, conditions: [{type: Ready, status: "True", reason: Available, message: "webhook available"}]}}`, "Healthy"},
		{"page stalled", "messengerpage-health.lua",
			`{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [{type: Ready, status: "False", reason: SecretNotFound}, {type: Stalled, status: "True", reason: SecretNotFound, message: "Secret \"x\" not found"}]}}`, "Degraded"},
		{"page token revoked", "messengerpage-health.lua",
			`{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [{type: Ready, status: "False", reason: GraphUnauthorized}, {type: GraphAuthorized, status: "False", reason: GraphUnauthorized}]}}`, "Degraded"},
		{"app never reconciled", "messengerapp-health.lua",
			`{metadata: {generation: 1}, status: {observedGeneration: -1}}`, "Progressing"},
		{"app waiting for its callback", "messengerapp-health.lua",
			`{metadata: {generation: 2}, status: {observedGeneration: 2, conditions: [{type: Ready, status: "False", reason: CallbackPending}]}}`, "Progressing"},
		{"app ready", "messengerapp-health.lua",
			`{metadata: {generation: 2}, status: {observedGeneration: 2, conditions: [{type: Ready, status: "True", reason: Available}]}}`, "Healthy"},
		{"app stalled", "messengerapp-health.lua",
			`{metadata: {generation: 1}, status: {observedGeneration: 1, conditions: [{type: Ready, status: "False", reason: SecretNotFound}, {type: Stalled, status: "True", reason: SecretNotFound}]}}`, "Degraded"},
		{"policy never reconciled", "handoverpolicy-health.lua",
			`{metadata: {generation: 1}, status: {observedGeneration: -1}}`, "Progressing"},
		{"policy valid", "handoverpolicy-health.lua",
			`{metadata: {generation: 4}, status: {observedGeneration: 4, conditions: [{type: Ready, status: "True", reason: Valid}]}}`, "Healthy"},
		{"policy invalid", "handoverpolicy-health.lua",
			`{metadata: {generation: 4}, status: {observedGeneration: 4, conditions: [{type: Ready, status: "False", reason: InvalidPattern, message: "spec.handoff.triggers.patterns[0]: ..."}]}}`, "Degraded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, msg := runHealth(t, c.script, c.object)
			if got != c.want {
				t.Errorf("health = %s (%s), want %s", got, msg, c.want)
			}
		})
	}
}
