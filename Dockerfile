# One image for the three services and settlementctl; the command picks the service.
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY services ./services
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim
RUN useradd --system --uid 10001 settlement
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY seeds ./seeds
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 TARGETS_FILE=/app/seeds/targets.yaml \
    FX_RATES_FILE=/app/seeds/fx_rates.csv
USER settlement
CMD ["python", "-m", "settlement_api"]
