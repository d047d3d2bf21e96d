# idpsync as a long-running service: `docker run -v ./idpsync.yaml:/etc/idpsync/idpsync.yaml:ro ...`
#
# - slim Python base, non-root user (uid 10001), state on the /var/lib/idpsync volume
# - the config is mounted read-only at /etc/idpsync/idpsync.yaml (IDPSYNC_CONFIG)
# - secrets come from the environment (the variables your config's *_env keys name) or from
#   files mounted read-only (docker/kubernetes secrets) that the config's *_file keys name
# - state: a relative SQLite state.url (the default) lands in /var/lib/idpsync (IDPSYNC_STATE_DIR);
#   for PostgreSQL set IDPSYNC_STATE_URL (keeps the database password out of the config)
# - /healthz, /readyz and /metrics on port 9464; HEALTHCHECK asks /readyz on IDPSYNC_LISTEN's port
# - dependencies pinned by constraints.txt (regenerate with scripts/lock)
#
# The base is pinned by digest so a rebuild starts from the same bytes. The digest below was
# NOT verified against Docker Hub from here (no registry access); refresh it deliberately with
#   docker buildx imagetools inspect python:3.11-slim --format '{{json .Manifest.Digest}}'
# and replace it in both FROM lines.

FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7 AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Headers only matter if pip must build xmlsec from source; lxml and xmlsec must then share
# one libxml2 (idpsync refuses to start on a mismatch, see agent/xmlsec_check.py).
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
      libxml2-dev libxmlsec1-dev libxmlsec1-openssl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY agent ./agent
COPY connectors ./connectors
RUN python -m venv /opt/idpsync && /opt/idpsync/bin/pip install -c constraints.txt .

FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7
ARG VERSION=0+unknown
LABEL org.opencontainers.image.title="idpsync" \
      org.opencontainers.image.description="Keeps Okta and Entra ID SAML apps trusting every Region of a multi-Region AWS IAM Identity Center" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim" \
      org.opencontainers.image.base.digest="sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7"
RUN apt-get update \
 && apt-get install -y --no-install-recommends libxmlsec1 libxmlsec1-openssl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/idpsync --create-home \
      --shell /usr/sbin/nologin idpsync
COPY --from=build /opt/idpsync /opt/idpsync
COPY config/example.yaml /usr/share/idpsync/example.yaml
ENV PATH=/opt/idpsync/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    IDPSYNC_CONFIG=/etc/idpsync/idpsync.yaml \
    IDPSYNC_STATE_DIR=/var/lib/idpsync \
    IDPSYNC_LISTEN=0.0.0.0:9464
USER 10001:10001
WORKDIR /var/lib/idpsync
VOLUME ["/var/lib/idpsync"]
EXPOSE 9464
# /readyz on the port IDPSYNC_LISTEN names: ready = the state store answers and syncs succeed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-m", "agent.healthcheck"]
# SIGTERM (docker stop) finishes the app being written, then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["idpsync", "run"]
