"""Celery tasks of the shadow app: none of its own. A shadow run is a job kind (``shadow.jobs``)
executed by the generic ``solarhub.run_job`` task, which gives it the lease, heartbeat and
redelivery rules every long job shares."""
