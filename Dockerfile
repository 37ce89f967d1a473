# syntax=docker/dockerfile:1
# Build with the pinned toolchain (rust-toolchain.toml) and the committed lock file.
FROM rust:1.95.0-slim-bookworm AS build
WORKDIR /src
COPY rust-toolchain.toml Cargo.toml Cargo.lock ./
COPY src ./src
COPY config ./config
COPY benches ./benches
RUN cargo build --release --locked --bin cartgate

# Run as non-root on distroless: no shell, no package manager, no curl (hence `cartgate healthcheck`).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/cartgate /usr/local/bin/cartgate
COPY --from=build /src/config/default.toml /etc/cartgate/default.toml
USER 65532:65532
ENV CARTGATE_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=4s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/cartgate", "healthcheck", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/cartgate"]
CMD ["serve"]
