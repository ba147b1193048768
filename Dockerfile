# The single `zmon` binary in a small runtime image. The entrypoint is
# `zmon`, so a deployment picks the role: `controller`, `scheduler`,
# `worker`, `notifier`, `migrate`, or `standalone` (the default command).
#
#   docker build -t zmon .
#   docker run -p 8080:8080 zmon                      # standalone
#   docker run zmon worker                            # one role

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p zmon \
 && strip target/release/zmon

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 zmon \
 && useradd --system --uid 10001 --gid zmon --home-dir /var/lib/zmon --create-home zmon
COPY --from=build /src/target/release/zmon /usr/local/bin/zmon
# A container must listen beyond its own loopback; the ports are the
# defaults of the binary. The Glances API stays off unless
# ZMON_GLANCES_BIND is set (the host agents of the Helm chart set it).
ENV ZMON_BIND=0.0.0.0:8080 \
    ZMON_WORKER_ADMIN_BIND=0.0.0.0:8081 \
    ZMON_SCHEDULER_ADMIN_BIND=0.0.0.0:8082 \
    ZMON_NOTIFIER_ADMIN_BIND=0.0.0.0:8083 \
    ZMON_LOG_FORMAT=json
EXPOSE 8080 8081 8082 8083 61208
USER 10001:10001
# Standalone keeps its SQLite data in ./zmon-data, i.e. /var/lib/zmon/zmon-data.
WORKDIR /var/lib/zmon
ENTRYPOINT ["zmon"]
CMD ["standalone"]
