package v1alpha1

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
)

// MaxReplicasWithMemoryStore is the most webhook replicas the memory store allows (the CRD's
// CEL rule on WebhookSpec): each process keeps its own dedup keys, thread states and timers.
const MaxReplicasWithMemoryStore int32 = 1

var keyPrefixPattern = regexp.MustCompile(`^[-._:/{}a-zA-Z0-9]*$`)

// Redis is the Redis store of the webhook, nil for the memory store.
func (w *WebhookSpec) Redis() *RedisStoreSpec {
	if w.Store == nil {
		return nil
	}
	return w.Store.Redis
}

// RedisKeyPrefix is the prefix of every key the webhook of owner (kind "app" or "page", its
// namespace and name) writes: spec.webhook.store.redis.keyPrefix, else one made of the owner.
// The default holds a hash tag ({...}): every key of one webhook lives in one slot of a Redis
// Cluster, so its scripts may touch several keys.
func (w *WebhookSpec) RedisKeyPrefix(kind, namespace, name string) string {
	if r := w.Redis(); r != nil && r.KeyPrefix != "" {
		return r.KeyPrefix
	}
	return "mo:{" + namespace + "/" + kind + "/" + name + "}:"
}

// validate repeats the CEL rule and the schema of spec.webhook's store for specs read from a
// directory (the messages are the schema's).
func (w *WebhookSpec) validate() error {
	field := func(name, detail string) error { return FieldError{Field: name, Detail: detail} }
	r := w.Redis()
	if w.Replicas != nil && *w.Replicas > MaxReplicasWithMemoryStore && r == nil {
		return field("spec.webhook.replicas", "replicas > 1 needs spec.webhook.store.redis: with the memory store each process keeps its own dedup keys, thread states and timers, so two replicas would answer a redelivery twice")
	}
	if r == nil {
		return nil
	}
	switch {
	case !objectName.MatchString(r.URLSecretRef.Name) || len(r.URLSecretRef.Name) > 253:
		return field("spec.webhook.store.redis.urlSecretRef.name", fmt.Sprintf("%q is not a Secret name", r.URLSecretRef.Name))
	case !secretKeyPattern.MatchString(r.URLSecretRef.Key):
		return field("spec.webhook.store.redis.urlSecretRef.key", fmt.Sprintf("%q is not a Secret key", r.URLSecretRef.Key))
	case !keyPrefixPattern.MatchString(r.KeyPrefix) || len(r.KeyPrefix) > 200:
		return field("spec.webhook.store.redis.keyPrefix", "at most 200 of -._:/{} letters and digits")
	}
	return nil
}

// CheckRedisURL says whether s is a URL the Redis store can use: redis:// or rediss:// with a
// host. The error never repeats the URL (it may hold a password).
func CheckRedisURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("is not a URL")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return errors.New("is not a redis:// or rediss:// URL")
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	return nil
}
