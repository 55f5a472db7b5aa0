// Package browser drives the playground in Debian's Chromium (headless, through chromedp) against
// a real API server (envtest), the Messenger Platform simulator and the webhook run in-process,
// as a support lead would use it. Screenshots are kept in bin/screenshots (PLAYGROUND_SCREENSHOTS
// to put them elsewhere); PLAYGROUND_README_SCREENSHOT=1 also writes docs/playground.png.
package browser

import (
	"testing"

	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

func TestMain(m *testing.M) { rig.Main(m) }
