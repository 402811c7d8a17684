"""Group pages: registration (four steps), the group page, members' own data, staff list."""
from datetime import datetime

from flask import abort, flash, g, make_response, redirect, request, url_for
from sqlalchemy.exc import IntegrityError

from blueprints.core.auth import authorize, login_required, permission_required, register_permission
from blueprints.core.exports import FORMATS, send_table
from blueprints.core.formatting import format_phone
from blueprints.core.forms import EmptyForm
from blueprints.core.htmx import is_inline, render, set_htmx_headers
from blueprints.core.persistence import commit, commit_change, get_or_404
from blueprints.core.timeutil import KST
from extensions import db

from . import bp, services
from .eligibility import Candidate, Household, candidate_from_group
from .forms import (MAX_HOUSEHOLDS, STEPS, AffiliationForm, GroupRegistrationForm, GroupSearchForm, HandoverForm,
                    MemberInviteForm, ResidenceForm)
from .models import Group, GroupMember, GroupState, MemberInvitation
from blueprints.core.korean import with_particle

register_permission("register_group", "applicant")
register_permission("list_groups", "staff", "finance", "admin")

WIZARD_FRAGMENTS = {"register-wizard": "wizard", "households": "households", "eligibility-panel": "eligibility"}


@bp.app_context_processor
def inject_my_groups():
    """`my_groups()` for the dashboard: (group, my household) pairs of the signed-in parent."""
    return {"my_groups": lambda: services.groups_of(g.user) if g.get("user") else [],
            "my_invitations": lambda: services.pending_invitations(g.user) if g.get("user") else [],
            "invitation_form": EmptyForm}


# Registration ---------------------------------------------------------------------------

def candidate_from_form(form: GroupRegistrationForm) -> Candidate:
    households = []
    for index, entry in enumerate(form.households.entries):
        sub = entry.form
        households.append(Household(
            parent_name=sub.parent_name.data or "", phone=sub.phone.data or "",
            role="leader" if index == 0 else (sub.role.data if sub.role.data in ("treasurer", "member") else "member"),
            birth_yms=sub.birth_yms, email=sub.email.data or "", district=sub.resident_district.data or ""))
    return Candidate(district=form.district.data or "", households=tuple(households),
                     consent_provision=bool(form.consent_provision.data))


def _blank_form() -> GroupRegistrationForm:
    me = {"parent_name": g.user.name, "phone": format_phone(g.user.phone), "role": "leader"}
    return GroupRegistrationForm(formdata=None, data={"step": "1", "households": [me]})


def _form_data(form: GroupRegistrationForm) -> dict:
    data = form.data
    data.pop("csrf_token", None)
    data.pop("step", None)
    return data


def _keep_draft(form: GroupRegistrationForm, step: int, same_step_only: bool = False) -> None:
    """Keep what is typed and the step shown, so leaving the wizard loses nothing. A double
    click racing for the account's one draft keeps the other request's (the same answers)."""
    try:
        services.save_draft(g.user, step, _form_data(form), same_step_only=same_step_only)
        commit()
    except IntegrityError:
        db.session.rollback()


def _render_households(form: GroupRegistrationForm, rows: list[dict], focus_row=None):
    """Step 2 again with the same answers and renumbered household rows (after adding or removing one)."""
    data = _form_data(form)
    data["households"] = rows
    form = GroupRegistrationForm(formdata=None, data=data)
    _keep_draft(form, 2)
    return _render_wizard(form, 2, focus_row=focus_row, trigger="households-changed")


def _add_duplicate_errors(form: GroupRegistrationForm, steps) -> bool:
    ok = True
    if 1 in steps and form.name.data:
        duplicate = services.duplicate_by_name(form.name.data, g.user)
        if duplicate is not None:
            form.name.errors = [*form.name.errors, services.name_duplicate_message(duplicate)]
            ok = False
    if 2 in steps and form.households.entries:
        phone = form.households.entries[0].form.phone
        duplicate = services.duplicate_by_leader_phone(phone.data or "")
        if duplicate is not None:
            phone.errors = [*phone.errors, services.phone_duplicate_message(duplicate)]
            ok = False
    return ok


def _registration_from_form(form: GroupRegistrationForm) -> services.Registration:
    candidate = candidate_from_form(form)
    return services.Registration(
        name=form.name.data, district=form.district.data, dong=form.dong.data,
        meeting_place=form.meeting_place.data, activity_type=form.activity_type.data,
        description=form.description.data, households=list(candidate.households),
        consent_collection=bool(form.consent_collection.data),
        consent_provision=bool(form.consent_provision.data),
        consent_photos=bool(form.consent_photos.data),
        affiliation=form.affiliation.data or "",
        consent_publish_name=bool(form.consent_publish_name.data))


def _render_wizard(form, step, status=200, focus_row=None, trigger=None, resumed=None):
    form.step.data = str(step)
    programme = services.current_programme()
    response = render("groups/register.html", fragments=WIZARD_FRAGMENTS, status=status, form=form, step=step,
                      steps=STEPS, elig=services.check_eligibility(candidate_from_form(form), programme),
                      programme=programme, max_households=MAX_HOUSEHOLDS, focus_row=focus_row,
                      resumed=resumed)
    if trigger:
        # After the swap, so that listeners (the eligibility panel) read the new rows.
        response.headers["HX-Trigger-After-Swap"] = trigger
    return response


@bp.route("/register")
@permission_required("register_group")
def register():
    """The wizard, resumed where this person left it (their draft), or from the start."""
    draft = services.load_draft(g.user)
    if draft is None:
        return _render_wizard(_blank_form(), 1)
    form = GroupRegistrationForm(formdata=None, data=dict(draft.data, step=str(draft.step)))
    return _render_wizard(form, form.current_step, resumed=draft.updated_at)


@bp.route("/register/restart", methods=["POST"])
@permission_required("register_group")
def register_restart():
    """새로 시작: forget the draft and open an empty wizard."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.delete_draft(g.user)
    commit()
    flash("새로 시작합니다. 저장해 둔 내용은 지웠습니다.", "info")
    return redirect(url_for("groups.register"), 303)


@bp.route("/register/next", methods=["POST"])
@permission_required("register_group")
def register_next():
    form = GroupRegistrationForm()
    step = form.current_step
    if form.validate_step(step) & _add_duplicate_errors(form, {step}):
        step = min(step + 1, len(STEPS))
        _keep_draft(form, step)
        return _render_wizard(form, step)
    _keep_draft(form, step)
    return _render_wizard(form, step, status=422)


@bp.route("/register/back", methods=["POST"])
@permission_required("register_group")
def register_back():
    form = GroupRegistrationForm()
    step = max(1, form.current_step - 1)
    _keep_draft(form, step)
    return _render_wizard(form, step)


@bp.route("/register/households/add", methods=["POST"])
@permission_required("register_group")
def register_add_household():
    form = GroupRegistrationForm()
    rows = form.data["households"]
    focus_row = None
    if len(rows) < MAX_HOUSEHOLDS:
        rows.append({"role": "member"})
        focus_row = len(rows) - 1
    return _render_households(form, rows, focus_row)


@bp.route("/register/households/<int:index>/remove", methods=["POST"])
@permission_required("register_group")
def register_remove_household(index):
    form = GroupRegistrationForm()
    rows = form.data["households"]
    if 0 < index < len(rows):  # the first household is the registering 대표
        del rows[index]
    return _render_households(form, rows)


@bp.route("/register/finish", methods=["POST"])
@permission_required("register_group")
def register_finish():
    form = GroupRegistrationForm()
    invalid = form.first_invalid_step()
    if invalid is None and not _add_duplicate_errors(form, {1, 2}):
        invalid = 1 if form.name.errors else 2
    if invalid is not None:
        return _render_wizard(form, invalid, status=422)
    try:
        group, invited = services.register_group(_registration_from_form(form), by=g.user)
        commit()
    except services.GroupError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return _render_wizard(form, form.current_step, status=422)
    message = f"'{group.name}' 모임을 등록했습니다. 등록번호는 {group.reg_no}입니다."
    if invited:
        message += f" {len(invited)}가구에 초대 메일을 보냈습니다."
    flash(message, "success")
    target = url_for("groups.show", group_id=group.id)
    if is_inline():
        # The wizard posts with htmx into its own region: leave the page for the group's.
        return set_htmx_headers(make_response("", 204), redirect=target)
    return redirect(target, 303)


@bp.route("/register/check", methods=["POST"])
@permission_required("register_group")
def register_check():
    """The live eligibility panel: judges what is typed so far and keeps it as the draft
    (a parent who leaves mid-step finds what they typed), registers nothing."""
    form = GroupRegistrationForm()  # CSRFProtect has checked the token (every POST)
    _keep_draft(form, form.current_step, same_step_only=True)
    return _render_wizard(form, form.current_step)


# The applicant's groups ---------------------------------------------------------------------

@bp.route("/mine")
@login_required
def mine():
    return render("groups/mine.html", rows=services.groups_of(g.user), can_register=g.user.has_role("applicant"))


# The group page ---------------------------------------------------------------------------

def _member_choices(group: Group, members=None):
    return [(str(m.id), f"{m.parent_name} ({m.role_label})") for m in (members or group.members)]


def _invitable(group: Group, user) -> list[GroupMember]:
    officers_mine = services.may_change_officers(group, user)
    return [m for m in group.members if m.user_id is None and (officers_mine or m.role == "member")]


def _render_show(group: Group, status=200, invite_form=None, handover_form=None, residence_form=None,
                 affiliation_form=None):
    user = g.user
    me = group.member_for(user)
    show_contacts = group.can(user, "view_contacts")
    invitable = _invitable(group, user)
    if invite_form is None:
        # "초대" beside a household opens the form for it, filled with what the group knows.
        chosen = next((m for m in invitable if str(m.id) == request.args.get("invite", "")), None)
        invite_form = MemberInviteForm(formdata=None, data={
            "member_id": str(chosen.id) if chosen else "",
            "email": services.known_email(chosen) if chosen else ""})
    invite_form.member_id.choices = [("", "선택해 주세요")] + _member_choices(group, invitable)
    invitee = next((m for m in invitable if str(m.id) == str(invite_form.member_id.data or "")), None)
    handover_form = handover_form or HandoverForm()
    handover_form.member_id.choices = [("", "선택해 주세요")] + _member_choices(
        group, [m for m in group.members if m.role == "member"])
    can_edit_residences = group.can(user, "edit_residences")
    residence_form = residence_form or (ResidenceForm(group.members) if can_edit_residences else None)
    can_set_affiliation = group.can(user, "set_affiliation")
    affiliation_form = affiliation_form or (
        AffiliationForm(formdata=None, data={"affiliation": group.affiliation}) if can_set_affiliation else None)
    programme = services.current_programme()  # once: the panel judges against the one it names
    return render(
        "groups/show.html", status=status, group=group, me=me, show_contacts=show_contacts,
        elig=services.check_eligibility(candidate_from_group(group), programme)
        if show_contacts and programme is not None else None,
        programme=programme,
        history=services.history(group) if group.can(user, "view_history") else None,
        invite_form=invite_form, invitee=invitee, invitable_ids={m.id for m in invitable},
        handover_form=handover_form, residence_form=residence_form, affiliation_form=affiliation_form,
        can_invite=group.can(user, "invite"),
        can_handover_leader=group.can(user, "handover_leader"),
        can_handover_treasurer=group.can(user, "handover_treasurer"),
        can_set_status=group.can(user, "set_status"),
        can_set_affiliation=can_set_affiliation,
        can_consent_publish_name=group.can(user, "consent_publish_name"),
        can_edit_residences=can_edit_residences,
        residence_link=url_for("groups.show", group_id=group.id, _anchor="residences") if can_edit_residences else None,
        can_unlink=group.can(user, "unlink"),
        applications=services.applications_of(group))


@bp.route("/<int:group_id>")
@login_required
def show(group_id):
    group = services.group_with_households(group_id)
    if group is None:
        abort(404)
    authorize("view", group)
    return _render_show(group)


def _member_of(group: Group, member_id) -> GroupMember:
    member = next((m for m in group.members if str(m.id) == str(member_id)), None)
    if member is None:
        abort(404)
    return member


@bp.route("/<int:group_id>/invite", methods=["POST"])
@login_required
def invite(group_id):
    group = authorize("invite", get_or_404(Group, group_id))
    form = MemberInviteForm()
    form.member_id.choices = [("", "")] + _member_choices(group)
    if form.validate_on_submit():
        member = _member_of(group, form.member_id.data)
        try:
            services.invite_member(group, member, form.email.data, by=g.user)
        except services.GroupError as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
        else:
            commit()
            flash(f"{member.parent_name}님에게 초대 메일을 보냈습니다. 초대받은 분이 수락하면 모임에 연결됩니다.", "success")
            return redirect(url_for("groups.show", group_id=group.id), 303)
    return _render_show(group, status=422, invite_form=form)


@bp.route("/<int:group_id>/members/<int:member_id>/unlink", methods=["POST"])
@login_required
def unlink_member(group_id, member_id):
    group = authorize("unlink", get_or_404(Group, group_id))
    member = _member_of(group, member_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if commit_change(lambda: services.unlink_member(group, member, by=g.user), services.GroupError):
        flash(f"{member.parent_name}님 가구의 계정 연결을 해제했습니다. 필요하면 다시 초대해 주세요.", "success")
    return redirect(url_for("groups.show", group_id=group.id), 303)


# Invitations the signed-in person answers -------------------------------------------------

@bp.route("/invitations/<int:invitation_id>/accept", methods=["POST"])
@login_required
def accept_invitation(invitation_id):
    invitation = authorize("accept", get_or_404(MemberInvitation, invitation_id))
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        member = services.accept_invitation(invitation, by=g.user)
    except services.GroupError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("home.dashboard"), 303)
    commit()
    flash(f"'{invitation.group.name}' 모임의 {member.role_label} 가구로 연결되었습니다.", "success")
    return redirect(url_for("groups.show", group_id=invitation.group_id), 303)


@bp.route("/invitations/<int:invitation_id>/decline", methods=["POST"])
@login_required
def decline_invitation(invitation_id):
    invitation = authorize("decline", get_or_404(MemberInvitation, invitation_id))
    if not EmptyForm().validate_on_submit():
        abort(400)
    if commit_change(lambda: services.decline_invitation(invitation, by=g.user), services.GroupError):
        flash(f"'{invitation.group.name}' 모임의 초대를 거절했습니다.", "info")
    return redirect(url_for("home.dashboard"), 303)


@bp.route("/<int:group_id>/handover", methods=["POST"])
@login_required
def handover(group_id):
    group = get_or_404(Group, group_id)
    authorize("view", group)
    form = HandoverForm()
    form.member_id.choices = [("", "")] + _member_choices(group)
    if form.validate_on_submit():
        role = form.role.data
        authorize(f"handover_{role}", group)
        new_member = _member_of(group, form.member_id.data)
        if commit_change(lambda: services.handover(group, role, new_member, by=g.user), services.GroupError,
                         errors=form.member_id.errors):
            flash(f"{new_member.parent_name}님이 {new_member.role_label}를 맡았습니다.", "success")
            return redirect(url_for("groups.show", group_id=group.id), 303)
    elif not (group.can(g.user, "handover_leader") or group.can(g.user, "handover_treasurer")):
        abort(403)
    return _render_show(group, status=422, handover_form=form)


@bp.route("/<int:group_id>/status", methods=["POST"])
@login_required
def set_status(group_id):
    group = authorize("set_status", get_or_404(Group, group_id))
    status = request.form.get("status", "")
    if not EmptyForm().validate_on_submit() or not GroupState.known(status):
        abort(400)
    if commit_change(lambda: services.set_status(group, status, by=g.user), services.GroupError):
        quoted = f"'{group.status_label}'"
        flash(f"모임 상태를 {with_particle(quoted, '으로/로')} 바꾸었습니다.", "success")
    return redirect(url_for("groups.show", group_id=group.id), 303)


@bp.route("/<int:group_id>/affiliation", methods=["POST"])
@login_required
def set_affiliation(group_id):
    group = authorize("set_affiliation", get_or_404(Group, group_id))
    form = AffiliationForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _render_show(group, status=422, affiliation_form=form)
    changed = []
    if commit_change(lambda: changed.append(services.set_affiliation(group, form.affiliation.data, by=g.user)),
                     services.GroupError) and changed[0]:
        flash(f"활동 거점을 {with_particle(group.affiliation_label, '으로/로')} 바꾸었습니다.", "success")
    return redirect(url_for("groups.show", group_id=group.id), 303)


def _publish_name_consent(group_id, consent: bool):
    group = authorize("consent_publish_name", get_or_404(Group, group_id))
    if not EmptyForm().validate_on_submit():
        abort(400)
    changed = []
    if commit_change(lambda: changed.append(services.set_publish_name_consent(group, consent, by=g.user)),
                     services.GroupError) and changed[0]:
        flash("결과 공개 화면에 모임 이름과 자치구를 싣는 데 동의했습니다." if consent else
              "모임 이름 공개 동의를 철회했습니다. 결과 공개 화면에 모임 이름이 나오지 않습니다.", "success")
    return redirect(url_for("groups.show", group_id=group.id, _anchor="publish-name"), 303)


@bp.route("/<int:group_id>/publish-name/consent", methods=["POST"])
@login_required
def consent_publish_name(group_id):
    return _publish_name_consent(group_id, True)


@bp.route("/<int:group_id>/publish-name/withdraw", methods=["POST"])
@login_required
def withdraw_publish_name(group_id):
    return _publish_name_consent(group_id, False)


@bp.route("/<int:group_id>/residences", methods=["POST"])
@login_required
def set_residences(group_id):
    group = authorize("edit_residences", services.group_with_households(group_id) or abort(404))
    form = ResidenceForm(group.members)
    if not form.read(request.form):
        if form.csrf_token.errors:
            abort(400)
        return _render_show(group, status=422, residence_form=form)
    changed = []
    if commit_change(lambda: changed.append(services.set_residences(group, form.values, by=g.user)),
                     services.GroupError):
        flash(f"가구 {changed[0]}곳의 거주 자치구를 저장했습니다." if changed[0] else "바뀐 거주 자치구가 없습니다.",
              "success" if changed[0] else "info")
    return redirect(url_for("groups.show", group_id=group.id, _anchor="residences"), 303)


# A member's own personal data -------------------------------------------------------------

@bp.route("/<int:group_id>/me", methods=["GET", "POST"])
@login_required
def my_data(group_id):
    group = authorize("view_self", get_or_404(Group, group_id))
    me = group.member_for(g.user)
    status = 200
    error = None
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        if request.form.get("confirm") != "y":
            error = "삭제하려면 안내를 읽고 확인란에 표시해 주세요."
            status = 422
        else:
            refused = []
            if commit_change(lambda: services.delete_own_data(group, me, by=g.user), services.GroupError, errors=refused):
                flash(f"'{group.name}' 모임에서 내 개인정보를 삭제했습니다.", "success")
                return redirect(url_for("home.dashboard"), 303)
            error, status = refused[0], 422
    return render("groups/my_data.html", status=status, group=group, me=me, error=error)


# Staff: all groups --------------------------------------------------------------------------

def _filters(search: GroupSearchForm) -> dict:
    return dict(q=search.q.data or "", district=search.district.data or "", status=search.status.data or "",
                affiliation=search.affiliation.data or "", sort=search.sort.data or "reg_no", direction=search.direction.data or "asc")


@bp.route("/")
@permission_required("list_groups")
def list_groups():
    search = GroupSearchForm(request.args)
    search.validate()
    page = request.args.get("page", 1, type=int)
    filters = _filters(search)
    groups = services.search_groups(page=page, **filters)
    return render("groups/list.html", fragments={"group-table": "group_table", "group-search": "group_table"},
                  search=search, groups=groups, filters=filters)


@bp.route("/export.<fmt>")
@permission_required("list_groups")
def export(fmt):
    if fmt not in FORMATS:
        abort(404)
    search = GroupSearchForm(request.args)
    search.validate()
    stamp = datetime.now(KST).strftime("%Y%m%d")
    return send_table(services.export_sheet(**_filters(search)), fmt, f"groups-{stamp}.{fmt}")
