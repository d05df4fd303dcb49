"""Settings package: ``base`` holds everything shared; ``local`` (default for manage.py),
``test`` (pytest) and ``production`` (gunicorn, workers) adjust it."""
