# napkin in a container, e.g. for the shards of a distributed load test on Kubernetes
# (deploy/kubernetes/, docs/distributed.md). Two stages: a Rust build, then a slim runtime
# with the binary, CA certificates (for https targets) and the bundled scenarios.
#
#   docker build -t napkin:latest .
#   docker run --rm napkin:latest estimate /usr/share/napkin/scenarios/twitter.yaml

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin napkin \
    && install -m 0755 target/release/napkin /usr/local/bin/napkin

FROM debian:bookworm-slim
# Unpinned on purpose: CA certificates should be the distribution's current ones.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home napkin
COPY --from=build /usr/local/bin/napkin /usr/local/bin/napkin
COPY scenarios /usr/share/napkin/scenarios
USER 10001
ENTRYPOINT ["napkin"]
CMD ["--help"]
