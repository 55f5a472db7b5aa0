package v1alpha1

import "slices"

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
	// ConditionCanAct is written by the webhook: False when the app cannot act on the page's new
	// conversations because another app is the Page's default app under Conversation Routing
	// (they reach this app only on standby, its sends are refused with 2018300); True once a
	// user's message reaches the app on messaging. It holds Ready.
	ConditionCanAct = "CanAct"
	// ConditionIngressTLS warns that Meta will not call an endpoint without a valid certificate.
	ConditionIngressTLS = "IngressTLS"
	// ConditionSharedApp says that other pages use the same Meta app, which keeps one callback URL.
	ConditionSharedApp = "SharedApp"
	// ConditionHTTPRoute reports the HTTPRoute of spec.httpRoute: False when the Gateway API is not
	// installed in the cluster.
	ConditionHTTPRoute = "HTTPRoute"
	// ConditionSubscribed reports the Meta-side subscription of spec.subscription.
	ConditionSubscribed = "Subscribed"
	// ConditionProfileSynced reports the Page's Messenger Profile against spec.profile: True when
	// Meta's equals the spec, False with the Graph error's meaning when a check failed.
	ConditionProfileSynced = "ProfileSynced"
	// ConditionTokenValid reports Meta's debug_token on the page access token, checked by the
	// operator every recheck interval: False when Meta calls it invalid (expired, revoked) or it
	// lacks pages_messaging, before any customer writes. A person must act: it stalls the page.
	ConditionTokenValid = "TokenValid"
	// ConditionTokenExpiring is present, True, from TokenExpiryWarning before the page token's
	// expires_at (informational: the token still works).
	ConditionTokenExpiring = "TokenExpiring"
	// ConditionMonitoring reports the PodMonitor of spec.monitoring.podMonitor: False when the
	// PodMonitor CRD (Prometheus Operator) is not installed.
	ConditionMonitoring = "Monitoring"
	// ConditionProfilePayloadUnhandled names the profile's postback payloads that no trigger of
	// the page's policy claims (present only while there are some): their taps get the welcome.
	ConditionProfilePayloadUnhandled = "ProfilePayloadUnhandled"
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
	// ReasonNotDefaultApp: new conversations reach the app only on standby (CanAct False).
	ReasonNotDefaultApp = "NotDefaultApp"
	// ReasonReceivesConversations: users' messages reach the app on messaging (CanAct True).
	ReasonReceivesConversations = "ReceivesConversations"
	ReasonNoTLS                 = "NoTLS"
	ReasonTLSConfigured         = "TLSConfigured"
	ReasonAppShared             = "AppShared"
	ReasonGatewayAPIMissing     = "GatewayAPIMissing"
	ReasonRouteApplied          = "RouteApplied"
	ReasonSubscribed            = "Subscribed"
	ReasonResubscribed          = "Resubscribed"
	ReasonSubscribeFailed       = "SubscribeFailed"
	ReasonWaitingForWebhook     = "WaitingForWebhook"
	ReasonNoCallback            = "NoCallback"
	// ReasonChecking: a look at Meta's side is under way, off the reconcile workers.
	ReasonChecking = "Checking"
	// ReasonProfileInSync: Meta's Messenger Profile equals spec.profile.
	ReasonProfileInSync = "InSync"
	// ReasonProfileCorrected: the last check found Meta's profile differing and wrote the spec's.
	ReasonProfileCorrected = "Corrected"
	// ReasonProfileSyncFailed: a Graph call of the profile check failed; the message says why.
	ReasonProfileSyncFailed = "SyncFailed"
	// ReasonPayloadsUnhandled: ProfilePayloadUnhandled names payloads no trigger claims.
	ReasonPayloadsUnhandled = "PayloadsUnhandled"

	// ReasonTokenValid: debug_token says the page token is valid and has pages_messaging.
	ReasonTokenValid = "TokenValid"
	// ReasonTokenInvalid: debug_token says is_valid false (expired, revoked, invalidated).
	ReasonTokenInvalid = "TokenInvalid"
	// ReasonTokenScopeMissing: the page token lacks RequiredTokenScope.
	ReasonTokenScopeMissing = "ScopeMissing"
	// ReasonTokenCheckFailed: the debug_token call itself failed; the page is not held by it.
	ReasonTokenCheckFailed = "CheckFailed"
	// ReasonTokenExpiresSoon: the page token expires within TokenExpiryWarning.
	ReasonTokenExpiresSoon = "ExpiresSoon"
	// ReasonPodMonitorApplied: the PodMonitor of spec.monitoring.podMonitor is in place.
	ReasonPodMonitorApplied = "PodMonitorApplied"
	// ReasonPodMonitorCRDMissing: the PodMonitor CRD is not installed; no PodMonitor is made.
	ReasonPodMonitorCRDMissing = "PodMonitorCRDMissing"

	ReasonValid           = "Valid"
	ReasonInvalidPattern  = "InvalidPattern"
	ReasonInvalidTimeZone = "InvalidTimeZone"
	// ReasonPatternsTooComplex: the policy's patterns together exceed MaxPatternProgramSize.
	ReasonPatternsTooComplex = "PatternsTooComplex"
	// ReasonInvalidSpec: a problem the schema also rejects in a cluster (a policy read from a
	// directory), or a blank text or keyword.
	ReasonInvalidSpec = "InvalidSpec"
)

// ReasonGraphHostNotAllowed: spec.graphAPI.baseURL is on a host outside the manager's
// --graph-api-hosts (GraphAPIHostsSetting): Stalled, nothing applied and no Graph call.
const ReasonGraphHostNotAllowed = "GraphHostNotAllowed"

// The field managers that write status: each applies only its own condition types (the owners in
// MessengerPageConditions and HandoverPolicyConditions) and never removes another's.
const (
	// FieldManagerOperator owns the operator's objects and status fields.
	FieldManagerOperator = "messenger-operator"
	// FieldManagerWebhook owns the conditions only a page's webhook can see.
	FieldManagerWebhook = "messenger-webhook"
)

// MessengerPageConditions are the condition types of a MessengerPage: who writes each, and what it
// does to Ready (SummarizeReady). The order is the precedence of the Ready summary; a feature that
// adds a condition type adds it here.
var MessengerPageConditions = ConditionTypes{
	{Type: ConditionReady, Owner: FieldManagerOperator, Role: Summary},
	{Type: ConditionStalled, Owner: FieldManagerOperator, Role: Gating, AbnormalTrue: true},
	{Type: ConditionReconciling, Owner: FieldManagerOperator, Role: Gating, AbnormalTrue: true},
	// A refused page token needs a person: the page is Stalled.
	{Type: ConditionGraphAuthorized, Owner: FieldManagerWebhook, Role: Stalling},
	// So does one Meta's debug_token calls invalid, before any customer writes; a failed check
	// is reported (Unknown) without holding Ready.
	{Type: ConditionTokenValid, Owner: FieldManagerOperator, Role: Stalling},
	// A failed Graph call holds Ready; an app without a callback URL is reported only.
	{Type: ConditionSubscribed, Owner: FieldManagerOperator, Role: Gating, InformationalReasons: []string{ReasonNoCallback}},
	{Type: ConditionHandoverPermitted, Owner: FieldManagerWebhook, Role: Informational},
	// An app that is not the Page's default app cannot answer new conversations: not Ready.
	{Type: ConditionCanAct, Owner: FieldManagerWebhook, Role: Gating},
	{Type: ConditionIngressTLS, Owner: FieldManagerOperator, Role: Informational},
	{Type: ConditionSharedApp, Owner: FieldManagerOperator, Role: Informational, AbnormalTrue: true},
	{Type: ConditionHTTPRoute, Owner: FieldManagerOperator, Role: Informational},
	// The welcome screen is not the conversation: a profile out of sync is reported only.
	{Type: ConditionProfileSynced, Owner: FieldManagerOperator, Role: Informational},
	{Type: ConditionProfilePayloadUnhandled, Owner: FieldManagerOperator, Role: Informational, AbnormalTrue: true},
	{Type: ConditionTokenExpiring, Owner: FieldManagerOperator, Role: Informational, AbnormalTrue: true},
	{Type: ConditionMonitoring, Owner: FieldManagerOperator, Role: Informational},
}

// HandoverPolicyConditions are the condition types of a HandoverPolicy.
var HandoverPolicyConditions = ConditionTypes{
	{Type: ConditionReady, Owner: FieldManagerOperator, Role: Summary},
	{Type: ConditionStalled, Owner: FieldManagerOperator, Role: Gating, AbnormalTrue: true},
}

// PageInboxAppID is the app id of the Page Inbox (Meta Business Suite Inbox) for Messenger.
const PageInboxAppID = "263902037430900"

// MessengerApp conditions and the page's link to its app.
const (
	// ConditionServed is written by the app's webhook on each of its pages: True once its pods
	// serve the page's current generation (the condition's observedGeneration). A page with
	// spec.appRef is Ready only when it is Served.
	ConditionServed = "Served"
	// ConditionCallbackRegistered reports the app's callback at Meta (spec.subscription).
	ConditionCallbackRegistered = "CallbackRegistered"
)

// Reasons of MessengerApp conditions and of pages served by an app.
const (
	ReasonAppNotFound        = "AppNotFound"
	ReasonAppNotReady        = "AppNotReady"
	ReasonAppManaged         = "AppManaged"
	ReasonServing            = "Serving"
	ReasonLoading            = "Loading"
	ReasonConfigInvalid      = "ConfigInvalid"
	ReasonCallbackVerified   = "CallbackVerified"
	ReasonCallbackFailed     = "CallbackFailed"
	ReasonUnknownPageEntries = "UnknownPageEntries"
)

// MessengerAppConditions are the condition types of a MessengerApp, as MessengerPageConditions.
var MessengerAppConditions = ConditionTypes{
	{Type: ConditionReady, Owner: FieldManagerOperator, Role: Summary},
	{Type: ConditionStalled, Owner: FieldManagerOperator, Role: Gating, AbnormalTrue: true},
	{Type: ConditionReconciling, Owner: FieldManagerOperator, Role: Gating, AbnormalTrue: true},
	// With spec.subscription.registerCallback the app is Ready once Meta verified the callback.
	{Type: ConditionCallbackRegistered, Owner: FieldManagerOperator, Role: Gating},
	{Type: ConditionIngressTLS, Owner: FieldManagerOperator, Role: Informational},
	{Type: ConditionHTTPRoute, Owner: FieldManagerOperator, Role: Informational},
	{Type: ConditionMonitoring, Owner: FieldManagerOperator, Role: Informational},
}

// messengerAppPageConditions are those of a page with spec.appRef: the standalone page's, with
// Served (written by the app's webhook) required before Ready.
var messengerAppPageConditions = append(slices.Clone(MessengerPageConditions[:4]), append(ConditionTypes{
	{Type: ConditionServed, Owner: FieldManagerWebhook, Role: Gating, Required: true},
}, MessengerPageConditions[4:]...)...)

// ConditionTypes are the condition types of the page: MessengerPageConditions for a standalone
// page, with Served required (after GraphAuthorized in precedence) for a page with spec.appRef.
func (p *MessengerPage) ConditionTypes() ConditionTypes {
	if p.Spec.AppRef != nil {
		return messengerAppPageConditions
	}
	return MessengerPageConditions
}
