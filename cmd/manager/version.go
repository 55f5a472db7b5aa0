package main

// version is the release this binary belongs to. `make` sets it from the Makefile's VERSION
// (-ldflags "-X main.version=..."); this default is the same value (a test holds them equal), so
// a plain `go run ./cmd/manager` names a published image too.
var version = "v0.1.0"

// imageRepository is where the released image (both binaries) is published; the Makefile's
// IMAGE_REPO (a test holds them equal).
const imageRepository = "ghcr.io/messenger-operator/messenger-operator"

// defaultWebhookImage is the released image of this manager's version: without --webhook-image the
// webhooks run the version of the operator that made them, as the installs arrange it.
func defaultWebhookImage() string { return imageRepository + ":" + version }
