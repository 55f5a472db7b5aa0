package config

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// DirSource reads a page's manifests (Run), or an app's (RunApp), from a directory (standalone
// mode: no API server) and delivers a snapshot at start and whenever the files' contents change. Polling, rather than
// file events, also sees the atomic symlink swaps of mounted ConfigMaps and editors that replace
// files.
type DirSource struct {
	Dir string
	// Page is the page of Run, App the app of RunApp.
	Page, App types.NamespacedName
	// VerifyTokenSecret names the Secret of a generated verify token (Snapshot), if any.
	VerifyTokenSecret string
	// GraphAPIHosts go into every snapshot (Snapshot.GraphAPIHosts).
	GraphAPIHosts []string
	// Interval between two reads of the directory. Default 1s.
	Interval time.Duration
	Logger   *slog.Logger
	// Rejected, when set, is called when the files changed but do not parse (no snapshot is
	// delivered then).
	Rejected func(error)

	last       [sha256.Size]byte
	dirFailing bool
	// gens numbers the versions of each object seen, standing in for metadata.generation (for
	// logs and the status writer) since no API server counts them.
	gens map[string]objectGen
}

type objectGen struct {
	spec [sha256.Size]byte
	gen  int64
}

// Run delivers snapshots of the page to update until ctx is done. Unreadable or invalid files
// are logged and deliver nothing, so the last good configuration stays.
func (d *DirSource) Run(ctx context.Context, update func(Snapshot)) error {
	return d.run(ctx, func(files []File) error {
		s, err := Parse(files, d.Page, d.VerifyTokenSecret)
		if err != nil {
			return err
		}
		d.number(s.Page, s.Policy)
		s.GraphAPIHosts = d.GraphAPIHosts
		update(s)
		return nil
	})
}

// RunApp delivers snapshots of the app to update until ctx is done, as Run.
func (d *DirSource) RunApp(ctx context.Context, update func(AppSnapshot)) error {
	return d.run(ctx, func(files []File) error {
		s, err := ParseApp(files, d.App, d.VerifyTokenSecret)
		if err != nil {
			return err
		}
		for _, p := range s.Pages {
			d.number(p, s.Policies[p.Spec.PolicyRef.Name])
		}
		s.GraphAPIHosts = d.GraphAPIHosts
		update(s)
		return nil
	})
}

// run calls parse with the files at start and whenever their contents change, until ctx is
// done.
func (d *DirSource) run(ctx context.Context, parse func([]File) error) error {
	interval := d.Interval
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		d.poll(parse)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// poll reads the directory and hands the files to parse when the contents changed.
func (d *DirSource) poll(parse func([]File) error) {
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	files, err := ReadDir(d.Dir)
	if err != nil {
		if !d.dirFailing { // once per outage, not every second
			d.dirFailing = true
			log.Error("cannot read the manifests directory; the last good configuration keeps serving", "dir", d.Dir, "error", err.Error())
		}
		return
	}
	d.dirFailing = false
	h := sha256.New()
	for _, f := range files {
		h.Write([]byte(f.Name))
		h.Write([]byte{0})
		h.Write(sha256Of(f.Data))
	}
	var sum [sha256.Size]byte
	copy(sum[:], h.Sum(nil))
	if sum == d.last {
		return // unchanged since the last read, good or bad
	}
	d.last = sum
	if err := parse(files); err != nil {
		if d.Rejected != nil {
			d.Rejected(err)
		}
		log.Error("invalid manifests; the last good configuration keeps serving", "dir", d.Dir, "error", err.Error())
		return
	}
	log.Info("manifests loaded", "dir", d.Dir, "files", len(files))
}

// number sets the page's and the policy's generation to the count of distinct specs seen.
func (d *DirSource) number(page *v1alpha1.MessengerPage, policy *v1alpha1.HandoverPolicy) {
	if d.gens == nil {
		d.gens = map[string]objectGen{}
	}
	next := func(id string, spec any) int64 {
		b, _ := json.Marshal(spec)
		sum := sha256.Sum256(b)
		g := d.gens[id]
		if g.gen == 0 || g.spec != sum {
			g = objectGen{spec: sum, gen: g.gen + 1}
			d.gens[id] = g
		}
		return g.gen
	}
	if page != nil {
		page.Generation = next("MessengerPage/"+page.Name, page.Spec)
	}
	if policy != nil {
		policy.Generation = next("HandoverPolicy/"+policy.Name, policy.Spec)
	}
}

func sha256Of(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
