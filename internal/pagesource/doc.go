// Package pagesource loads what a page's webhook runs on - its MessengerPage, HandoverPolicy and
// Secret(s) - from the cluster (informers on the named objects) or from a directory of manifests,
// and turns each complete, valid snapshot into a webhook.Config.
//
// Both sources feed the same path: Source -> Snapshot -> Build -> Applier -> webhook.Server.Apply.
// The Applier keeps the last good configuration when a new snapshot is incomplete or invalid, so
// a bad edit (or a deleted Secret) is logged and never takes the webhook down.
package pagesource
