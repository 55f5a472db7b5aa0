// Package specs builds, without any client, the objects the operator owns for one MessengerPage:
// the webhook's Deployment, Service, Ingress, ServiceAccount, Role, RoleBinding and the Secret of
// a generated verify token. Builders return server-side apply configurations holding only the
// fields the operator sets, so an apply never claims a field it does not mean to own.
//
// Every object carries a hash of itself (AppliedHashAnnotation) and UpToDate compares a desired
// object with what the cache holds, so the controller writes only when something changed.
package specs
