"""Callable factory fixtures (indico style): make what a test needs, nothing more."""
import itertools

import pyotp
import pytest

from extensions import db

PASSWORD = "pass1234!"
# The authenticator secret of every factory user with a second factor (staff, finance and admin
# by default): the login helpers (conftest AuthActions, browser and concurrency) answer the
# second-factor step with its current code.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_seq = itertools.count(1)


def fresh_totp_code(email: str) -> str:
    """The current code of the account's authenticator app. The account's last used step is
    forgotten first: tests sign the same person in several times within one 30-second step,
    and the app refuses a code twice."""
    from sqlalchemy import select, update

    from blueprints.accounts.models import User

    # An UPDATE, not an attribute set: the test's copy of the user may still say None while a
    # live server (another session) has stored the step since, and setting None again would
    # write nothing.
    address = email.strip().lower()
    db.session.execute(update(User).where(User.email == address).values(totp_last_step=None))
    db.session.commit()
    secret = db.session.scalar(select(User.totp_secret).where(User.email == address))
    return pyotp.TOTP(secret).now()


@pytest.fixture
def make_user(app):
    from blueprints.accounts.models import SECOND_FACTOR_ROLES, User, UserRole
    from blueprints.accounts.services import hash_password
    from blueprints.core.models import utcnow

    def make(email=None, *, roles=("applicant",), name=None, phone=None, password=PASSWORD, active=True,
             second_factor=None, verified=True):
        """second_factor: None = enrolled (with TOTP_SECRET) exactly when a role needs it."""
        n = next(_seq)
        user = User(email=email or f"user{n}@example.kr", name=name or f"사용자{n}",
                    phone=phone or f"010{n:08d}", password_hash=hash_password(password), is_active=active,
                    privacy_consent_at=utcnow(), privacy_consent_version="2027-01",
                    email_verified_at=utcnow() if verified else None)
        if second_factor is None:
            second_factor = bool(SECOND_FACTOR_ROLES & set(roles))
        if second_factor:
            user.totp_secret, user.totp_enabled_at = TOTP_SECRET, utcnow()
        for role in roles:
            user.role_rows.append(UserRole(role=role))
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_programme(app):
    from blueprints.programmes.defaults import programme_fields_from_defaults
    from blueprints.programmes.models import Programme

    def make(**overrides):
        fields = programme_fields_from_defaults()
        fields["title"] = overrides.pop("title", f"{fields['title']} #{next(_seq)}")
        fields.update(overrides)
        programme = Programme(**fields)
        db.session.add(programme)
        db.session.commit()
        return programme

    return make


@pytest.fixture
def make_group(app):
    from blueprints.groups.models import Child, Group, GroupMember
    from blueprints.groups.services import next_reg_no
    from blueprints.core.models import utcnow

    def make(*, leader=None, treasurer=None, name=None, district="마포구", dong="망원동", households=5,
             birth_ym="2024-05", year=2027, affiliation="other"):
        n = next(_seq)
        now = utcnow()
        group = Group(reg_no=next_reg_no(year), name=name or f"모임{n}", district=district, dong=dong,
                      affiliation=affiliation,
                      meeting_place="공동육아방", activity_type="놀이", description="함께 놀아요",
                      consent_collection_at=now, consent_provision_at=now)
        for h in range(households):
            person = leader if h == 0 else treasurer if h == 1 else None
            role = "leader" if h == 0 else "treasurer" if h == 1 else "member"
            member = GroupMember(
                user_id=person.id if person else None,
                parent_name=person.name if person else f"보호자{n}-{h}",
                phone=person.phone if person else f"0109{n % 1000:03d}{h:04d}",   # 11 digits whatever n
                role=role, resident_district=district)
            member.children.append(Child(birth_ym=birth_ym))
            group.members.append(member)
        db.session.add(group)
        db.session.commit()
        return group

    return make
