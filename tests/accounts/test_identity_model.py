"""A model-based test of accounts and group membership (issue 12, "the same idea for accounts").

People act as the views let them: each reads only their own mailbox, knows only the passwords
they chose, and acts through the account their browser is signed in to. An outsider may sign up
with anyone's address, invite, accept, decline, try to re-link households, hand over, log in
and out; an admin may deactivate accounts and grant roles. The services are called the way the
views call them (same checks first, one commit per action). After every step:

- every household linked to an account was accepted by the owner of that account's address;
- every linked account, and every role given by someone else, is on a verified address;
- nobody but the owner of an address can sign in to a verified account for it.
"""
import re

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)
from sqlalchemy import select

from blueprints.accounts import services as accounts
from blueprints.accounts.models import User, UserRole
from blueprints.core.mail import OutboxMessage
from blueprints.groups import services as groups
from blueprints.groups.models import Child, Group, GroupMember, MemberInvitation
from blueprints.core.models import utcnow
from extensions import db
from tests.conftest import _empty_all_tables

PEOPLE = ("parent", "outsider", "leader")
ADDRESS = {person: f"{person}@example.kr" for person in PEOPLE}
OWNER = {address: person for person, address in ADDRESS.items()}
PASSWORD = {person: f"{person}-pw-1234" for person in PEOPLE}
IP = "203.0.113.9"
HOUSEHOLDS = 4

# The leader invites; the outsider attacks; the parent is the person whose address is at stake.
targets = st.sampled_from((ADDRESS["parent"], ADDRESS["outsider"]))
invitees = st.sampled_from(("parent", "outsider"))
officers = st.sampled_from(("leader", "outsider"))
households = st.integers(min_value=0, max_value=HOUSEHOLDS - 1)


def _token(person: str, path: str) -> str | None:
    """The token of the latest mail in this person's own mailbox that links to `path`."""
    bodies = db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == ADDRESS[person])
                                .order_by(OutboxMessage.id.desc())).all()
    for body in bodies:
        found = re.search(rf"/{re.escape(path)}/([A-Za-z0-9_\-]+)", body)
        if found:
            return found.group(1)
    return None


class AccountsMachine(RuleBasedStateMachine):
    app = None

    def __init__(self):
        super().__init__()
        self.context = self.app.test_request_context()
        self.context.push()
        db.session.rollback()
        _empty_all_tables()
        db.session.expunge_all()  # ids start at 1 again: forget the last example's objects
        now = utcnow()

        def account(person, roles):
            user = User(email=ADDRESS[person], name=person, phone="01000000000",
                        password_hash=accounts.hash_password(PASSWORD[person]), email_verified_at=now,
                        privacy_consent_at=now, privacy_consent_version="2027-01")
            user.role_rows.extend(UserRole(role=role) for role in roles)
            db.session.add(user)
            return user

        self.admin = User(email="admin@example.kr", name="관리자", email_verified_at=now,
                          password_hash=accounts.hash_password("admin-pw-1234"))
        self.admin.role_rows.append(UserRole(role="admin"))
        db.session.add(self.admin)
        leader = account("leader", ["applicant"])
        account("outsider", ["applicant"])
        db.session.flush()
        group = Group(reg_no="G-2027-0001", name="햇살품앗이", district="마포구", consent_collection_at=now)
        for index in range(HOUSEHOLDS):
            member = GroupMember(parent_name=f"보호자{index}", phone=f"0101111000{index}",
                                 role="leader" if index == 0 else "treasurer" if index == 1 else "member",
                                 user_id=leader.id if index == 0 else None)
            member.children.append(Child(birth_ym="2024-05"))
            group.members.append(member)
        db.session.add(group)
        db.session.commit()
        self.group_id = group.id
        self.admin_id = self.admin.id
        self.seeded = {(group.members[0].id, leader.id)}
        self.member_ids = [m.id for m in group.members]
        # who accepted which (household, account); whose browser is signed in to which account
        self.accepted: dict[tuple[int, int], str] = {}
        self.session: dict[str, tuple[int, int] | None] = {person: None for person in PEOPLE}
        self.session["leader"] = (leader.id, leader.session_version)

    def teardown(self):
        db.session.rollback()
        db.session.expunge_all()
        self.context.pop()

    # helpers ------------------------------------------------------------------------------

    def admin_user(self) -> User:
        return db.session.get(User, self.admin_id)

    def group(self) -> Group:
        return db.session.get(Group, self.group_id)

    def signed_in(self, person) -> User | None:
        """The view's `load_signed_in_user`: the account, if the session still holds."""
        held = self.session[person]
        if held is None:
            return None
        user = db.session.get(User, held[0])
        if user is None or not user.is_active or user.session_version != held[1]:
            self.session[person] = None
            return None
        return user

    def acting(self, person) -> User | None:
        """Signed in and past the verified-address gate, as every group page requires."""
        user = self.signed_in(person)
        return user if user is not None and user.is_verified else None

    def start_session(self, person, user):
        self.session[person] = (user.id, user.session_version)

    def attempt(self, action):
        try:
            result = action()
        except (groups.GroupError, accounts.AccountError):
            db.session.rollback()
            return None
        db.session.commit()
        return result

    # rules --------------------------------------------------------------------------------

    def sign_in(self, person, address) -> bool:
        """The login view: a person who knows where their password works signs in there."""
        user = accounts.find_user_by_email(address)
        if user is None or accounts.login_wait(address, IP) is not None:
            return False
        user = accounts.authenticate(address, PASSWORD[person], IP)
        db.session.commit()
        if user is not None:
            self.start_session(person, user)
        return user is not None

    # The reproduction is the starting point: an outsider signed up first with the
    # parent's address and signed in; the group may already name that address somewhere.
    @initialize(named=st.sampled_from((None, 1, 2, 3)))
    def start(self, named):
        self.outsider_signs_up_with_the_parents_address_and_signs_in()
        if named is not None:
            self.invites("leader", named, ADDRESS["parent"])

    @rule()
    def outsider_signs_up_with_the_parents_address_and_signs_in(self):
        address = ADDRESS["parent"]
        if not accounts.verify_mail_is_throttled(address, IP):
            accounts.request_signup(email=address, password=PASSWORD["outsider"], name="남", phone="010-2222-3333",
                                    ip=IP)
            db.session.commit()
        self.sign_in("outsider", address)

    @rule()
    def parent_signs_up(self):
        if not accounts.verify_mail_is_throttled(ADDRESS["parent"], IP):
            accounts.request_signup(email=ADDRESS["parent"], password=PASSWORD["parent"], name="부모",
                                    phone="010-2222-4444", ip=IP)
            db.session.commit()

    @rule(person=invitees)
    def signs_in_with_own_address(self, person):
        self.sign_in(person, ADDRESS[person])

    @rule(address=targets)
    def outsider_signs_in(self, address):
        self.sign_in("outsider", address)

    @rule(person=invitees)
    def logs_out(self, person):
        self.session[person] = None

    def mailed(self, path) -> bool:
        return db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.body.contains(f"/{path}/")).limit(1)) \
            is not None

    @precondition(lambda self: self.mailed("account/verify"))
    @rule(person=invitees, with_password=st.booleans())
    def opens_the_verification_link(self, person, with_password):
        token = _token(person, "account/verify")
        row = accounts.find_valid_token(token, "verify") if token else None
        if row is None:
            return
        user = row.user
        me = self.signed_in(person)
        if (me is not None and me.id == user.id) or (with_password and accounts.verify_password(user, PASSWORD[person])):
            accounts.verify_email(row)
            db.session.commit()
            self.start_session(person, user)

    @precondition(lambda self: self.mailed("account/verify"))
    @rule()
    def parent_says_i_did_not_sign_up(self):
        token = _token("parent", "account/verify")
        row = accounts.find_valid_token(token, "verify") if token else None
        if row is not None:
            try:
                accounts.disown_signup(row)
            except accounts.AccountError:
                pass
            db.session.commit()

    @precondition(lambda self: self.mailed("invite"))
    @rule(person=invitees)
    def sets_up_through_the_emailed_link(self, person):
        token = _token(person, "invite")
        row = accounts.find_valid_token(token, "invite") if token else None
        if row is not None:
            user = accounts.accept_invite(row, name=person, phone="010-2222-3333", password=PASSWORD[person])
            db.session.commit()
            self.start_session(person, user)

    @rule()
    def parent_resets_the_password(self):
        if accounts.reset_is_throttled(ADDRESS["parent"], IP):
            return
        accounts.request_password_reset(ADDRESS["parent"], IP)
        db.session.commit()
        token = _token("parent", "password/reset")
        row = accounts.find_valid_token(token, "reset") if token else None
        if row is not None:
            accounts.reset_password(row, PASSWORD["parent"])
            db.session.commit()

    @rule(person=officers, household=households, address=targets)
    def invites(self, person, household, address):
        user, group = self.acting(person), self.group()
        if user is None or not group.can(user, "invite"):
            return
        member = db.session.get(GroupMember, self.member_ids[household])
        if member is not None:
            self.attempt(lambda: groups.invite_member(group, member, address, by=user))

    def answer(self, person, accept):
        # The service itself must refuse an unverified account: no address gate here.
        user = self.signed_in(person)
        if user is None:
            return
        for invitation in db.session.scalars(select(MemberInvitation).order_by(MemberInvitation.id)).all():
            if not invitation.can(user, "accept"):
                continue
            if accept:
                member = self.attempt(lambda: groups.accept_invitation(invitation, by=user))
                if member is not None:
                    self.accepted[(member.id, user.id)] = person
            else:
                self.attempt(lambda: groups.decline_invitation(invitation, by=user))

    def has_invitations(self) -> bool:
        return db.session.scalar(select(MemberInvitation.id).where(MemberInvitation.state == "pending").limit(1)) \
            is not None

    @precondition(lambda self: self.has_invitations())
    @rule(person=invitees)
    def accepts_invitations(self, person):
        self.answer(person, True)

    @precondition(lambda self: self.has_invitations())
    @rule()
    def outsider_accepts_whatever_the_account_signed_in_to_was_sent(self):
        self.answer("outsider", True)

    @precondition(lambda self: self.has_invitations())
    @rule(person=invitees)
    def declines_invitations(self, person):
        self.answer(person, False)

    @rule(person=officers, household=households)
    def unlinks(self, person, household):
        user, group = self.acting(person), self.group()
        if user is None or not group.can(user, "unlink"):
            return
        member = db.session.get(GroupMember, self.member_ids[household])
        if member is not None:
            self.attempt(lambda: groups.unlink_member(group, member, by=user))

    @rule(person=officers, role=st.sampled_from(("leader", "treasurer")), household=households)
    def hands_over(self, person, role, household):
        user, group = self.acting(person), self.group()
        if user is None or not group.can(user, f"handover_{role}"):
            return
        member = db.session.get(GroupMember, self.member_ids[household])
        if member is not None:
            self.attempt(lambda: groups.handover(group, role, member, by=user))

    @rule(address=targets)
    def admin_deactivates(self, address):
        user = accounts.find_user_by_email(address)
        if user is not None and user.is_active:
            self.attempt(lambda: accounts.set_active(user, False, by=self.admin_user()))

    @rule(address=targets)
    def admin_grants_the_reviewer_role(self, address):
        user = accounts.find_user_by_email(address)
        if user is not None:
            self.attempt(lambda: accounts.grant_role(user, "reviewer", by=self.admin_user()))

    # invariants ---------------------------------------------------------------------------

    @invariant()
    def households_are_linked_only_by_their_owners_acceptance(self):
        for member in self.group().members:
            if member.user_id is None or (member.id, member.user_id) in self.seeded:
                continue
            user = db.session.get(User, member.user_id)
            assert user.is_verified, f"household #{member.id} linked to an unverified address"
            assert self.accepted.get((member.id, user.id)) == OWNER.get(user.email), (
                f"household #{member.id} linked to {user.email} without its owner's acceptance")

    @invariant()
    def roles_from_others_are_only_on_verified_addresses(self):
        for row in db.session.scalars(select(UserRole).where(UserRole.granted_by_id.is_not(None))):
            assert row.user.is_verified, f"{row.role} given to the unverified {row.user.email}"

    @invariant()
    def only_the_owner_can_sign_in_to_a_verified_account(self):
        for user in db.session.scalars(select(User).where(User.email_verified_at.is_not(None),
                                                          User.email.in_(tuple(OWNER)))):
            for person in PEOPLE:
                if person != OWNER[user.email]:
                    assert not accounts.verify_password(user, PASSWORD[person]), (
                        f"{person} knows the password of the verified {user.email}")


def test_nobody_is_linked_to_a_group_or_given_a_role_they_did_not_accept(app):
    AccountsMachine.app = app
    run_state_machine_as_test(AccountsMachine, settings=settings(
        max_examples=50, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
