# syntax=docker/dockerfile:1
# tps-connector: the sidecar's container image.
#
#   scripts/build-image.sh            builds it here (a Debian bookworm base made with debootstrap)
#   docker build -t tps-connector .   elsewhere (BASE defaults to Debian's published image)
#
# Two stages: the first installs the project into a virtualenv (it needs pip and a network),
# the second copies that virtualenv onto the base with only what runs: Python, Debian's Chromium
# (for portals that need a real browser), libatomic (Playwright's driver, a Node binary, needs
# it) and CA certificates. It runs as an unprivileged user.
ARG BASE=docker.io/library/debian:bookworm-slim

FROM ${BASE} AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY connector connector
COPY adapters adapters
COPY vault vault
COPY sandbox sandbox
# Behind a TLS-intercepting proxy, pass its CA bundle as a build secret (never a layer):
#   --secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt
RUN --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export PIP_CERT=/run/secrets/ca-certificates; fi \
    && python3 -m venv /opt/connector \
    && /opt/connector/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/connector/bin/pip install --no-cache-dir . \
    && /opt/connector/bin/python -m compileall -q /opt/connector

FROM ${BASE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 chromium ca-certificates fonts-liberation libatomic1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/connector \
        --create-home --shell /usr/sbin/nologin connector
COPY --from=build /opt/connector /opt/connector

# Listen on every interface inside the container; the platform decides what is published.
# Debian's Chromium is the browser. Chromium's own sandbox needs user namespaces, which Docker's
# default seccomp profile refuses: set CONNECTOR_BROWSER__SANDBOX=false there (compose.yaml
# does), or run with a profile that allows them.
ENV PATH=/opt/connector/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CONNECTOR_DATA_DIR=/var/lib/connector \
    CONNECTOR_API__HOST=0.0.0.0 \
    CONNECTOR_WORKER__METRICS_HOST=0.0.0.0 \
    CONNECTOR_BROWSER__EXECUTABLE_PATH=/usr/bin/chromium

USER connector
WORKDIR /var/lib/connector
VOLUME ["/var/lib/connector"]
EXPOSE 8080 8081

# Liveness of `serve` (a worker answers /healthz on 8081: compose.yaml overrides this there).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

CMD ["tps-connector", "serve"]
