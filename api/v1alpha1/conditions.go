package v1alpha1

// Condition types. Ready, Reconciling and Stalled follow kstatus: Reconciling and Stalled are
// "abnormal-true" and only present while true.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"

	// ConditionGraphAuthorized is written by the page's webhook (its own field manager): False when
	// the Graph API rejects the page token (code 190), True again once calls succeed.
	ConditionGraphAuthorized = "GraphAuthorized"
	// ConditionHandoverPermitted is written by the webhook: False when Conversation Routing refuses
	// a take (no default app, or this app may not take control).
	ConditionHandoverPermitted = "HandoverPermitted"
	// ConditionIngressTLS warns that Meta will not call an endpoint without a valid certificate.
	ConditionIngressTLS = "IngressTLS"
	// ConditionSharedApp says that other pages use the same Meta app, which keeps one callback URL.
	ConditionSharedApp = "SharedApp"
	// ConditionHTTPRoute reports the HTTPRoute of spec.httpRoute: False when the Gateway API is not
	// installed in the cluster.
	ConditionHTTPRoute = "HTTPRoute"
	// ConditionSubscribed reports the Meta-side subscription of spec.subscription.
	ConditionSubscribed = "Subscribed"
)

// Reasons used in MessengerPage and HandoverPolicy conditions.
const (
	ReasonSecretNotFound    = "SecretNotFound"
	ReasonSecretKeyMissing  = "SecretKeyMissing"
	ReasonPolicyNotFound    = "PolicyNotFound"
	ReasonConflict          = "Conflict"
	ReasonProgressing       = "Progressing"
	ReasonAvailable         = "Available"
	ReasonScaledToZero      = "ScaledToZero"
	ReasonGraphUnauthorized = "GraphUnauthorized"
	ReasonGraphAuthorized   = "GraphAuthorized"
	ReasonTakeRefused       = "TakeRefused"
	ReasonTakeAllowed       = "TakeAllowed"
	ReasonNoTLS             = "NoTLS"
	ReasonTLSConfigured     = "TLSConfigured"
	ReasonAppShared         = "AppShared"
	ReasonGatewayAPIMissing = "GatewayAPIMissing"
	ReasonRouteApplied      = "RouteApplied"
	ReasonSubscribed        = "Subscribed"
	ReasonResubscribed      = "Resubscribed"
	ReasonSubscribeFailed   = "SubscribeFailed"
	ReasonWaitingForWebhook = "WaitingForWebhook"
	ReasonNoCallback        = "NoCallback"

	ReasonValid           = "Valid"
	ReasonInvalidPattern  = "InvalidPattern"
	ReasonInvalidTimeZone = "InvalidTimeZone"
)

// PageInboxAppID is the app id of the Page Inbox (Meta Business Suite Inbox) for Messenger.
const PageInboxAppID = "263902037430900"
