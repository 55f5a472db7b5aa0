package controllers

import "testing"

// When a registration may go ahead, by what the webhook reports loaded and what Meta was last
// given: never a rotated token the webhook does not answer with yet.
func TestTokenGate(t *testing.T) {
	for _, c := range []struct {
		name            string
		gate            tokenGate
		rotated, loaded bool
	}{
		{"first registration, webhook silent", tokenGate{Want: "new"}, false, true},
		{"first registration, webhook has it", tokenGate{Want: "new", Reported: "new"}, false, true},
		{"first registration, webhook has another", tokenGate{Want: "new", Reported: "old"}, false, false},
		{"rotated, webhook still has the old", tokenGate{Want: "new", Reported: "old", Registered: "old"}, true, false},
		{"rotated, webhook silent", tokenGate{Want: "new", Registered: "old"}, true, false},
		{"rotated, webhook has it", tokenGate{Want: "new", Reported: "new", Registered: "old"}, true, true},
		{"in sync", tokenGate{Want: "new", Reported: "new", Registered: "new"}, false, true},
		{"in sync, webhook silent", tokenGate{Want: "new", Registered: "new"}, false, true},
	} {
		if got := c.gate.rotated(); got != c.rotated {
			t.Errorf("%s: rotated %v, want %v", c.name, got, c.rotated)
		}
		if got := c.gate.loaded(); got != c.loaded {
			t.Errorf("%s: loaded %v, want %v", c.name, got, c.loaded)
		}
	}
}
