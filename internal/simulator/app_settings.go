package simulator

import "fmt"

// AppChange changes an app's settings at Meta while the simulator runs; nil fields stay.
type AppChange struct {
	// RequireAppSecretProof is the App Dashboard's "Require App Secret" (reference §7.4).
	RequireAppSecretProof *bool
	// CanTake is the Page setting "allow this app to take control of conversations" (§4.1).
	CanTake *bool
	// StandardAccess: pages_messaging without Advanced Access (§2.3, §4.3 200/2018028).
	StandardAccess *bool
	// HumanAgent: the HUMAN_AGENT tag feature (§5.1).
	HumanAgent *bool
}

// ChangeApp applies ch to an app (id or name; not the Page Inbox).
func (s *Simulator) ChangeApp(appRef string, ch AppChange) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appByRef(appRef)
	if a == nil || a.builtin {
		return fmt.Errorf("simulator: unknown app %q", appRef)
	}
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&a.requireProof, ch.RequireAppSecretProof)
	set(&a.canTake, ch.CanTake)
	set(&a.standardAccess, ch.StandardAccess)
	set(&a.humanAgent, ch.HumanAgent)
	s.logf("settings of %s changed: appsecret_proof required %v, may take %v, standard access %v, human agent %v",
		a.name, a.requireProof, a.canTake, a.standardAccess, a.humanAgent)
	return nil
}
