# messenger-operator

# The release this tree is: the image tag, the chart's appVersion and dist/install.yaml. The
# manager's default webhook image is IMAGE_REPO:VERSION (cmd/manager/version.go, held equal by a test).
VERSION ?= v0.1.0
IMAGE_REPO ?= ghcr.io/messenger-operator/messenger-operator
# Image carrying both binaries (manager and webhook).
IMG ?= $(IMAGE_REPO):$(VERSION)
LDFLAGS := -X main.version=$(VERSION)

# Tool versions, installed into bin/ from the Go module proxy.
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
KUSTOMIZE_VERSION ?= v5.8.2
VEGETA_VERSION ?= v12.13.0
HELM_VERSION ?= v3.22.0

# Control plane built from source by hack/control-plane.sh (envtest and the kwok cluster).
K8S_VERSION ?= 1.37.2
ETCD_VERSION ?= 3.7.3
KWOK_VERSION ?= 0.8.0
export K8S_VERSION ETCD_VERSION KWOK_VERSION

GOBIN_DIR := $(CURDIR)/bin
CONTROLLER_GEN ?= $(GOBIN_DIR)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT ?= $(GOBIN_DIR)/golangci-lint-$(GOLANGCI_LINT_VERSION)
KUSTOMIZE ?= $(GOBIN_DIR)/kustomize-$(KUSTOMIZE_VERSION)
VEGETA ?= $(GOBIN_DIR)/vegeta-$(VEGETA_VERSION)
HELM ?= $(GOBIN_DIR)/helm-$(HELM_VERSION)

# Tests take the control plane from here; `make test` builds it once.
KUBEBUILDER_ASSETS ?= $(GOBIN_DIR)/k8s/$(K8S_VERSION)-etcd$(ETCD_VERSION)-kwok$(KWOK_VERSION)
export KUBEBUILDER_ASSETS

GO_TEST_FLAGS ?= -race -count=1 -timeout 40m

.PHONY: all
all: build

##@ General

.PHONY: print-%
print-%: ## Print a variable of this Makefile, e.g. make print-IMG.
	@echo $($*)

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRDs and the manager's ClusterRole from the markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	@hack/chart-sync.sh
	@go run ./hack/argocdcm -dir config/argocd

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate the DeepCopy methods and the apply configurations of the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" applyconfiguration:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: docs
docs: manifests chart-docs ## Generate docs/api-reference.md from the CRDs (hack/crddoc) and the chart README.
	go run ./hack/crddoc -crds config/crd/bases -out docs/api-reference.md

.PHONY: fmt
fmt: ## go fmt.
	go fmt ./...

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## golangci-lint.
	$(GOLANGCI_LINT) run ./...

.PHONY: tidy-check
tidy-check: ## Fail when go.mod or go.sum is not tidy.
	@go mod tidy -diff || { echo "go.mod/go.sum not tidy: run go mod tidy" >&2; exit 1; }

.PHONY: control-plane
control-plane: ## Build kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok into bin/ (once).
	@hack/control-plane.sh $(GOBIN_DIR) >/dev/null

.PHONY: test
test: manifests generate vet lint tidy-check control-plane $(HELM) ## Run every test: lint, unit, envtest and the kwok end-to-end tests.
	@GO_TEST_FLAGS="$(GO_TEST_FLAGS)" hack/test.sh

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 30s).
	@hack/fuzz.sh $${FUZZTIME:-30s}

.PHONY: bench
bench: $(VEGETA) control-plane ## Benchmarks: print the performance table (BENCH_PAGES, BENCH_STEADY, BENCH_DURATION).
	@VEGETA=$(VEGETA) hack/bench.sh

.PHONY: soak
soak: $(VEGETA) ## Soak: signed events at a fixed rate for SOAK_DURATION (default 60s) against the webhook binary; fails on any error or RSS growth over 1.2x.
	@VEGETA=$(VEGETA) go run ./hack/soak

##@ Build

.PHONY: build
build: ## Build bin/manager, bin/webhook, bin/simulator and bin/playground.
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o $(GOBIN_DIR)/ ./cmd/...

.PHONY: run
run: manifests generate ## Run the manager against the cluster in your kubeconfig (webhooks run IMG unless WEBHOOK_IMAGE is set).
	go run -ldflags "$(LDFLAGS)" ./cmd/manager

.PHONY: docker-build
docker-build: ## Build the image (needs a Docker engine).
	docker build --build-arg VERSION=$(VERSION) -t $(IMG) .

.PHONY: demo
demo: control-plane ## A local kwok cluster, the operator, the samples, the webhook and the simulator: a scripted conversation, then clean up.
	@hack/demo.sh

.PHONY: playground
playground: control-plane ## The demo's cluster, operator, app, simulator and webhook, with the playground on localhost until Ctrl-C.
	@hack/playground.sh

##@ Release

.PHONY: release
release: manifests $(HELM) ## Release artefacts of VERSION in dist/ (nothing pushed): install.yaml and the packaged chart.
	@HELM=$(HELM) hack/release.sh $(VERSION) dist

.PHONY: chart-docs
chart-docs: ## Generate dist/chart/README.md from the chart's values.yaml (hack/chartdoc).
	go run ./hack/chartdoc -chart dist/chart

##@ Deployment

.PHONY: install
install: manifests $(KUSTOMIZE) ## Install the CRDs into the cluster in your kubeconfig.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: manifests $(KUSTOMIZE) ## Remove the CRDs.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests $(KUSTOMIZE) ## Install the operator (config/default) with image IMG.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: $(KUSTOMIZE) ## Remove the operator.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found -f -

##@ Tools

$(CONTROLLER_GEN):
	@hack/go-install.sh $@ sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
$(GOLANGCI_LINT):
	@hack/go-install.sh $@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
$(KUSTOMIZE):
	@hack/go-install.sh $@ sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
$(VEGETA):
	@hack/go-install.sh $@ github.com/tsenart/vegeta/v12@$(VEGETA_VERSION)
$(HELM):
	@hack/go-install.sh $@ helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

.PHONY: tools
tools: $(CONTROLLER_GEN) $(KUSTOMIZE) ## Install the pinned tools into bin/.
