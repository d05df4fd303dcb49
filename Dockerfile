# SolarHub image: the same code runs as web (gunicorn), worker and beat (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=solarhub.settings.production \
    SOLARHUB_DATA_DIR=/data

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN SECRET_KEY=build-only-collectstatic-key-0123456789abcdef ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput \
    && useradd --system --uid 1000 solarhub && mkdir -p /data && chown -R solarhub /data /app
USER solarhub
EXPOSE 8000
CMD ["gunicorn", "solarhub.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
