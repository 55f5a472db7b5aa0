package specs

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

const (
	webhookSuffix     = "-webhook"
	verifyTokenSuffix = "-verify-token"
	auditKeySuffix    = "-audit-key"
	// An app's names end in appSuffix, which no page's name ends in ("-webhook",
	// "-verify-token"), so an app and a page never take each other's names whatever their names.
	appSuffix = "-app"
	// appInstanceSuffix holds an underscore, which no page's instance value can (page names are
	// DNS subdomains): an app's pods never match a page's selector.
	appInstanceSuffix = "_app"
)

// WebhookName names the page's Deployment, Service, Ingress, ServiceAccount, Role and
// RoleBinding: "<page>-webhook" when that is a valid Service name (a DNS-1035 label), else a
// shortened form with a hash of the page name, so that any valid page name works.
func WebhookName(pageName string) string { return serviceName(pageName, webhookSuffix) }

// serviceName is name+suffix when that is a valid Service name (a DNS-1035 label), else a
// shortened form with a hash of name.
func serviceName(name, suffix string) string {
	if n := name + suffix; len(validation.IsDNS1035Label(n)) == 0 {
		return n
	}
	base := strings.ReplaceAll(name, ".", "-")
	if base == "" || base[0] < 'a' || base[0] > 'z' {
		base = "p-" + base
	}
	return shorten(base, validation.DNS1035LabelMaxLength-len(suffix)-9) + "-" + shortHash(name) + suffix
}

// VerifyTokenSecretName names the Secret of a generated verify token.
func VerifyTokenSecretName(pageName string) string {
	if n := pageName + verifyTokenSuffix; len(n) <= validation.DNS1123SubdomainMaxLength {
		return n
	}
	return shorten(pageName, validation.DNS1123SubdomainMaxLength-len(verifyTokenSuffix)-9) + "-" + shortHash(pageName) + verifyTokenSuffix
}

// AppWebhookName names an app's Deployment, Service, Ingress, HTTPRoute, ServiceAccount, Role and
// RoleBinding: "<app>-webhook-app", shortened with a hash like WebhookName when too long. It
// never equals a page's WebhookName, which ends in "-webhook".
func AppWebhookName(appName string) string { return serviceName(appName, webhookSuffix+appSuffix) }

// AppVerifyTokenSecretName names the Secret of an app's generated verify token:
// "<app>-verify-token-app", never a page's VerifyTokenSecretName.
func AppVerifyTokenSecretName(appName string) string {
	if n := appName + verifyTokenSuffix + appSuffix; len(n) <= validation.DNS1123SubdomainMaxLength {
		return n
	}
	return shorten(appName, validation.DNS1123SubdomainMaxLength-len(verifyTokenSuffix+appSuffix)-9) + "-" + shortHash(appName) + verifyTokenSuffix + appSuffix
}

// AppInstanceValue is the app.kubernetes.io/instance label of an app: "<app>_app", shortened with
// a hash when too long; never a page's InstanceValue.
func AppInstanceValue(appName string) string {
	if n := appName + appInstanceSuffix; len(validation.IsValidLabelValue(n)) == 0 {
		return n
	}
	return shorten(appName, validation.LabelValueMaxLength-9-len(appInstanceSuffix)) + "-" + shortHash(appName) + appInstanceSuffix
}

// InstanceValue is the app.kubernetes.io/instance label of a page: its name when that is a valid
// label value, else a shortened form with a hash.
func InstanceValue(pageName string) string {
	if len(validation.IsValidLabelValue(pageName)) == 0 {
		return pageName
	}
	return shorten(pageName, validation.LabelValueMaxLength-9) + "-" + shortHash(pageName)
}

func shorten(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.TrimRight(s, "-.")
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// AuditKeySecretName names the Secret of a page's audit key: "<page>-audit-key".
func AuditKeySecretName(pageName string) string { return secretName(pageName, auditKeySuffix) }

// AppAuditKeySecretName names the Secret of an app's audit key: "<app>-audit-key-app", never a
// page's AuditKeySecretName.
func AppAuditKeySecretName(appName string) string {
	return secretName(appName, auditKeySuffix+appSuffix)
}

// secretName is name+suffix when that is a valid Secret name, else a shortened form with a hash
// of name.
func secretName(name, suffix string) string {
	if n := name + suffix; len(n) <= validation.DNS1123SubdomainMaxLength {
		return n
	}
	return shorten(name, validation.DNS1123SubdomainMaxLength-len(suffix)-9) + "-" + shortHash(name) + suffix
}
