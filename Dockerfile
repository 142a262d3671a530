# intakeguard: the decision API and the SMTP receiver (README.md, "Container").
#
#   build:  podman build -t intakeguard .        (or docker build)
#   run:    intakeguard serve on 8080 (HTTP) and 2525 (SMTP), SQLite in /var/lib/intakeguard
#           as one process; -e INTAKEGUARD_WORKERS=auto for a worker per CPU the container has
#
# Settings come only from INTAKEGUARD_* variables and, optionally, a TOML file mounted
# into the container and named by INTAKEGUARD_CONFIG. Secrets have no defaults here.

ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
# For builds behind a package mirror or a TLS-inspecting proxy; unset by default.
ARG PIP_INDEX_URL
ARG PIP_CERT
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/intakeguard
WORKDIR /src
# Dependencies first, from the lock alone (.ci/lock.sh), so that a change of code reuses
# this layer and every build installs the same files: each pinned, each hash checked.
# setuptools comes first, from the lock too: it builds what is published only as source
# (pyspf) and the project, so nothing unchecked is fetched to build with.
COPY requirements.lock ./
RUN awk '/^[a-z]/ { keep = /^setuptools==/ } keep' requirements.lock > build.lock \
    && /opt/intakeguard/bin/pip install --require-hashes --no-deps --requirement build.lock \
    && /opt/intakeguard/bin/pip install --require-hashes --no-build-isolation --use-pep517 \
        --requirement requirements.lock
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE ./
COPY rules ./rules
COPY app ./app
COPY mailhook ./mailhook
# The project alone: its dependencies are the lock's (pip check says none is missing).
# The running service installs nothing: pip and setuptools stay behind in this stage.
RUN /opt/intakeguard/bin/pip install --no-deps --no-build-isolation . \
    && /opt/intakeguard/bin/pip check \
    && /opt/intakeguard/bin/python -m pip uninstall --yes --quiet pip setuptools \
    && /opt/intakeguard/bin/python -m compileall -q /opt/intakeguard/lib

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="intakeguard" \
      org.opencontainers.image.description="Verifies emailed instructions before a support desk acts on them" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --gid 10001 intakeguard \
    && useradd --uid 10001 --gid intakeguard --no-create-home \
        --home-dir /var/lib/intakeguard --shell /usr/sbin/nologin intakeguard \
    && install -d -o intakeguard -g intakeguard -m 0750 /var/lib/intakeguard
COPY --from=build /opt/intakeguard /opt/intakeguard
# The policy is the default catalogue inside the package (rules/ at build time); for your
# own, mount a directory and point INTAKEGUARD_RULES_DIR at it.
ENV PATH=/opt/intakeguard/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    INTAKEGUARD_DATABASE_URL=sqlite:////var/lib/intakeguard/intakeguard.db \
    INTAKEGUARD_HTTP_LISTEN=0.0.0.0:8080 \
    INTAKEGUARD_SMTP_LISTEN=0.0.0.0:2525
# Everything the service writes: the SQLite file (and its WAL) when no PostgreSQL is used.
VOLUME ["/var/lib/intakeguard"]
WORKDIR /var/lib/intakeguard
USER 10001:10001
EXPOSE 8080 2525
# /healthz on the port of INTAKEGUARD_HTTP_LISTEN; urllib, as the image has no curl. A
# container running `intakeguard smtp` alone serves no HTTP: give it a check of its own.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('INTAKEGUARD_HTTP_LISTEN', ':8080').rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]
ENTRYPOINT ["intakeguard"]
CMD ["serve"]
