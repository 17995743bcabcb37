# volcard service image (docs/operations.md, "Containers").
# Build: docker build -t volcard .   Run the whole topology: docker compose up (docker-compose.yml).
#
# Stage 1 builds the binary with cgo (the PC/SC client library for the card
# readers); stage 2 is a small Debian runtime with only the shared libraries
# it needs, running as an unprivileged user.
FROM golang:1.26-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcsclite-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags='-s -w' -o /out/volcard ./cmd/volcard

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcsclite1 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/volcard --create-home --shell /usr/sbin/nologin volcard
COPY --from=build /out/volcard /usr/local/bin/volcard
# The test CA and card keys of a checkout are NOT copied: production keys come
# from a mounted volume (VOLCARD_CARD_KEYS_DIR, VOLCARD_CA_KEYS).
USER volcard
WORKDIR /var/lib/volcard
ENV VOLCARD_LISTEN=0.0.0.0:8080 \
    VOLCARD_DATA_DIR=/var/lib/volcard \
    TZ=Asia/Shanghai
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["volcard", "healthcheck"]
ENTRYPOINT ["volcard"]
CMD ["serve"]
