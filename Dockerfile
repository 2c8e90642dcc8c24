# One image for the three services and settlementctl; the command picks the service.
# The status page's chart library, from the project's own lock (versions and sha512
# integrity), as deploy/local/web_vendor.sh installs it on a machine; no install scripts run.
FROM node:20-slim AS web
WORKDIR /web
COPY services/api/src/settlement_api/web/vendor/package.json services/api/src/settlement_api/web/vendor/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY services ./services
# The one dist file the API serves (web/routes.py); the wheel carries it.
COPY --from=web /web/node_modules/echarts/dist/echarts.common.min.js services/api/src/settlement_api/web/vendor/
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim
# UID/GID 10001, numeric in USER so Kubernetes can verify runAsNonRoot (the chart's
# podSecurityContext uses the same ids).
RUN groupadd --system --gid 10001 settlement && useradd --system --uid 10001 --gid 10001 settlement
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY seeds ./seeds
# The root filesystem is read-only in the chart and in docker-compose.yml: no .pyc writes;
# only /tmp (a volume there) is written.
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    TARGETS_FILE=/app/seeds/targets.yaml FX_RATES_FILE=/app/seeds/fx_rates.csv
EXPOSE 8001 8002 8003
USER 10001:10001
CMD ["python", "-m", "settlement_api"]
