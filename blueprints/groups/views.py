"""Group pages (registration and the group page come with the group issue)."""
from blueprints.core.auth import authorize
from blueprints.core.persistence import get_or_404
from blueprints.core.htmx import render

from . import bp
from .models import Group


@bp.route("/<int:group_id>")
def show(group_id):
    group = authorize("view", get_or_404(Group, group_id))
    return render("groups/show.html", group=group)
