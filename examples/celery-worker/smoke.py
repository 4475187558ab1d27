"""Smoke check without a broker: run the tasks eagerly in-process."""

from tasks import app, health, run_simulation

app.conf.task_always_eager = True
assert health.delay().get() == "ok"
assert abs(run_simulation.delay(1000).get() - 1.6439) < 1e-3
print("celery-worker smoke ok")
