package v1alpha1

import "time"

// TokenExpiryWarning is how long before a page token's expires_at the operator warns (the
// TokenExpiring condition and Event): time to get a fresh token into the Secret.
const TokenExpiryWarning = 7 * 24 * time.Hour

// RequiredTokenScope is the permission a page token needs for the webhook to answer at all.
const RequiredTokenScope = "pages_messaging"

// DefaultTokenRecheckInterval is how often the page token is checked when neither the app nor
// the page sets spec.subscription.recheckInterval and the manager sets no default.
const DefaultTokenRecheckInterval = DefaultSubscriptionRecheckInterval

// WantsPodMonitor reports whether a PodMonitor is asked for.
func (m *MonitoringSpec) WantsPodMonitor() bool { return m != nil && m.PodMonitor != nil }
