"""The background worker's entry point: ``huey_consumer worker.huey --workers 2 --worker-type process``.

create_app registers every domain's tasks with core's queue; the consumer's workers run
each task body in this app's context."""
from app import create_app
from blueprints.core.tasks import use_app

app = create_app()
huey = use_app(app)
