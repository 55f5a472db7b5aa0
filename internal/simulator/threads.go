package simulator

import (
	"fmt"
	"time"
)

// Message is one accepted message of a thread, from the customer or from the Page (an app or the
// inbox). Every message the platform accepted is here exactly once: use it to prove exactly-once
// or at-most-once sends.
type Message struct {
	Mid          string
	Page         string
	PSID         string
	From         string // "customer", the sending app's readable name, or "page" (Meta's own)
	AppID        string // sending app id; "" for the customer
	Kind         string // text, quick_reply, postback, template, attachment, sticker, post, automation
	Text         string // text, quick-reply/button title, or a short description of a template
	Payload      string // payload of a tapped quick reply or pressed button
	Metadata     string
	QuickReplies []QuickReply // offered with a Page message
	Buttons      []Button     // postback and URL buttons offered in a template
	Cards        []Card       // the elements of a generic template (carousel), in order
	Tag          string
	PersonaID    string
	Edits        int // times the person edited the text (message_edits)
	Time         time.Time
}

// QuickReply is a quick reply offered by the Page (title after truncation).
type QuickReply struct {
	ContentType string
	Title       string
	Payload     string
}

// Card is one element of a generic template as the customer sees it: its buttons are the
// message's Buttons whose Card is this title.
type Card struct {
	Title    string
	Subtitle string
	ImageURL string
}

// Button is a template button offered by the Page.
type Button struct {
	Type    string
	Title   string
	Payload string
	URL     string
	Card    string // the title of the carousel card (generic template element) holding it
}

// Messages returns the accepted messages of a thread, oldest first.
func (s *Simulator) Messages(pageID, psid string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pages[pageID]
	if p == nil {
		return nil
	}
	t := p.threads[psid]
	if t == nil {
		return nil
	}
	return append([]Message(nil), t.messages...)
}

// Owner returns the readable name of the app owning the thread, or "none" when idle.
func (s *Simulator) Owner(pageID, psid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pages[pageID]
	if p == nil {
		return "none"
	}
	t := p.threads[psid]
	if t == nil {
		return "none"
	}
	s.expireLocked(p, t)
	return s.appName(t.owner)
}

// OwnerExpiry returns when the current owner's control expires (zero when idle).
func (s *Simulator) OwnerExpiry(pageID, psid string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pages[pageID]
	if p == nil || p.threads[psid] == nil {
		return time.Time{}
	}
	t := p.threads[psid]
	s.expireLocked(p, t)
	if t.owner == "" {
		return time.Time{}
	}
	return t.expires
}

// Now is the simulator's clock.
func (s *Simulator) Now() time.Time { return s.clock.Now() }

// Advance moves the clock forward (it must be a ManualClock, an OffsetClock or another Advancer)
// and expires the ownerships that ran out meanwhile.
func (s *Simulator) Advance(d time.Duration) error {
	adv, ok := s.clock.(Advancer)
	if !ok {
		return fmt.Errorf("simulator: the clock cannot be advanced")
	}
	adv.Advance(d)
	s.mu.Lock()
	s.sweepLocked()
	s.mu.Unlock()
	s.dq.kick() // late delivery attempts may be due now
	s.changes.notify()
	return nil
}

// AppID returns the id of an app given its id or name ("" if unknown).
func (s *Simulator) AppID(ref string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.appByRef(ref); a != nil {
		return a.id
	}
	return ""
}

func (s *Simulator) recordLocked(t *thread, m Message) {
	t.messages = append(t.messages, m)
}

func (s *Simulator) newMid() string {
	return "m_" + randomString(64, tokenAlphabet+"-_")
}
