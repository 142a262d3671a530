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
# Dependencies first, from pyproject.toml alone, so that a change of code reuses this layer.
COPY pyproject.toml ./
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > requirements.txt \
    && /opt/intakeguard/bin/pip install --requirement requirements.txt
COPY README.md ./
COPY app ./app
COPY mailhook ./mailhook
# The running service installs nothing: pip and setuptools stay behind in this stage.
RUN /opt/intakeguard/bin/pip install --no-deps . \
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
# The default policy; mount another directory and point INTAKEGUARD_RULES_DIR at it.
COPY rules /usr/share/intakeguard/rules
ENV PATH=/opt/intakeguard/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    INTAKEGUARD_DATABASE_URL=sqlite:////var/lib/intakeguard/intakeguard.db \
    INTAKEGUARD_HTTP_LISTEN=0.0.0.0:8080 \
    INTAKEGUARD_SMTP_LISTEN=0.0.0.0:2525 \
    INTAKEGUARD_RULES_DIR=/usr/share/intakeguard/rules
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
