package specs

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

const (
	webhookSuffix     = "-webhook"
	verifyTokenSuffix = "-verify-token"
)

// WebhookName names the page's Deployment, Service, Ingress, ServiceAccount, Role and
// RoleBinding: "<page>-webhook" when that is a valid Service name (a DNS-1035 label), else a
// shortened form with a hash of the page name, so that any valid page name works.
func WebhookName(pageName string) string {
	if n := pageName + webhookSuffix; len(validation.IsDNS1035Label(n)) == 0 {
		return n
	}
	base := strings.ReplaceAll(pageName, ".", "-")
	if base == "" || base[0] < 'a' || base[0] > 'z' {
		base = "p-" + base
	}
	return shorten(base, validation.DNS1035LabelMaxLength-len(webhookSuffix)-9) + "-" + shortHash(pageName) + webhookSuffix
}

// VerifyTokenSecretName names the Secret of a generated verify token.
func VerifyTokenSecretName(pageName string) string {
	if n := pageName + verifyTokenSuffix; len(n) <= validation.DNS1123SubdomainMaxLength {
		return n
	}
	return shorten(pageName, validation.DNS1123SubdomainMaxLength-len(verifyTokenSuffix)-9) + "-" + shortHash(pageName) + verifyTokenSuffix
}

// InstanceValue is the app.kubernetes.io/instance label of a page: its name when that is a valid
// label value, else a shortened form with a hash.
func InstanceValue(pageName string) string {
	if len(validation.IsValidLabelValue(pageName)) == 0 {
		return pageName
	}
	return shorten(pageName, validation.LabelValueMaxLength-9) + "-" + shortHash(pageName)
}

// ServiceHost is the in-cluster DNS name of the page's Service.
func ServiceHost(page *v1alpha1.MessengerPage) string {
	return WebhookName(page.Name) + "." + page.Namespace + ".svc"
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
