// Package config loads what a page's webhook runs on - its MessengerPage, HandoverPolicy and
// Secret(s) - from the cluster (typed controller-runtime caches, one per named object) or from a
// directory of manifests, and compiles each complete, valid snapshot into a Page.
//
// Both sources feed the same path: source -> Snapshot -> Build -> Applier -> Target.Apply. The
// Applier keeps the last good configuration when a new snapshot is incomplete or invalid, so a
// bad edit (or a deleted Secret) is logged and never takes the webhook down.
//
// Watcher and Named are the cluster side's building blocks: caches scoped by a field selector
// that start and stop as the set of names in use changes.
package config
