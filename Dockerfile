# One image carrying both binaries: /manager (the operator) and /webhook (what every page's pods
# run). Static binaries on distroless, non-root.
FROM golang:1.26 AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
# The release (make docker-build passes the Makefile's VERSION): the manager's default webhook image.
ARG VERSION=v0.1.0
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY internal/ internal/
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/ ./cmd/manager ./cmd/webhook

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/manager /manager
COPY --from=build /out/webhook /webhook
USER 65532:65532
ENTRYPOINT ["/manager"]
