# Expert version of compose/production/django/Dockerfile (antenna), built the same way:
#   docker build -f <this file> .      (repository root as context)
# Same requirements, same base family, same scripts, entrypoint and user.
FROM python:3.11.11-slim-bullseye AS python

# Build stage: wheels for every requirement (build-essential/libpq-dev only live here).
FROM python AS python-build-stage
ARG BUILD_ENVIRONMENT=production
RUN apt-get update \
    && apt-get install --no-install-recommends -y build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*
COPY ./requirements /requirements
RUN --mount=type=cache,target=/root/.cache/pip \
    pip wheel --wheel-dir /usr/src/app/wheels -r /requirements/${BUILD_ENVIRONMENT}.txt

# Run stage
FROM python AS python-run-stage
ARG BUILD_ENVIRONMENT=production
ARG APP_HOME=/app
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BUILD_ENV=${BUILD_ENVIRONMENT}
WORKDIR ${APP_HOME}

# gettext for compilemessages; psycopg[binary] bundles its own libpq, so no libpq-dev
RUN addgroup --system django \
    && adduser --system --ingroup django django \
    && apt-get update \
    && apt-get install --no-install-recommends -y gettext \
    && rm -rf /var/lib/apt/lists/*

# the wheels are bind-mounted, not copied: no layer keeps them
RUN --mount=type=bind,from=python-build-stage,source=/usr/src/app/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels/ /wheels/*

COPY --chown=django:django --chmod=755 ./compose/production/django/entrypoint /entrypoint
COPY --chown=django:django --chmod=755 ./compose/production/django/start /start
COPY --chown=django:django --chmod=755 ./compose/production/django/celery/worker/start /start-celeryworker
COPY --chown=django:django --chmod=755 ./compose/production/django/celery/beat/start /start-celerybeat
COPY --chmod=755 ./compose/production/django/celery/flower/start /start-flower
RUN sed -i 's/\r$//g' /entrypoint /start /start-celeryworker /start-celerybeat /start-flower

COPY --chown=django:django . ${APP_HOME}
RUN chown django:django ${APP_HOME}
USER django
RUN DATABASE_URL="" \
    CELERY_BROKER_URL="" \
    DJANGO_SETTINGS_MODULE="config.settings.test" \
    python manage.py compilemessages

ENTRYPOINT ["/entrypoint"]
