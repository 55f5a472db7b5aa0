// Package harness runs the whole product on one machine, for the end-to-end tests and `make demo`:
// a kwok cluster (a real API server, controller manager and scheduler, simulated nodes), the
// operator as a local process, and per page the Messenger Platform simulator (in-process) and the
// webhook as a local process standing in for the pod kwok never runs.
//
// The webhook connects as the page's ServiceAccount (impersonated), so it gets exactly the Role
// the operator wrote for it, and reads its page, policy and Secrets from the cluster as a pod
// would. StartApp does the same for a MessengerApp (one simulator knowing all the app's Pages,
// the app's webhook as the app's ServiceAccount); its pages join with App.AddPage.
//
//	env, _ := harness.Start(harness.Options{Name: "e2e"})
//	defer env.Stop()
//	page, _ := env.StartPage(ctx, harness.PageOptions{Namespace: "shop", ...})
//	defer page.Stop()
//	page.Customer(psid).Say("hi")
package harness
