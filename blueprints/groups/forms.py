"""Forms of the group domain. Registration is one form walked through in four steps; the
fields of the other steps travel as hidden inputs, so nothing is stored before consent and
everything works without JavaScript."""
from wtforms import (BooleanField, EmailField, FieldList, FormField, HiddenField, RadioField, SearchField,
                     SelectField, StringField, TextAreaField, ValidationError)
from wtforms.validators import DataRequired, Email, Length, Optional

from blueprints.core.forms import BaseForm, BaseSubForm, mobile_number
from blueprints.core.timeutil import today_kst
from data.districts import SEOUL_DISTRICTS

from .eligibility import OUTSIDE_SEOUL, RESIDENCE_CHOICES, format_ym, parse_birth_ym
from .models import GroupAffiliation, GroupState

REQUIRED = "필수 입력 항목입니다."
EMAIL_MSG = "이메일 주소 형식이 올바르지 않습니다. 예: parent@example.kr"
ACTIVITY_TYPES = ["놀이·체험", "독서·그림책", "자연·숲 놀이", "예술·음악", "신체 활동", "요리·생활", "기타"]
STEPS = [(1, "기본 정보"), (2, "가구"), (3, "대표·회계"), (4, "동의")]
MAX_HOUSEHOLDS = 30
MAX_CHILDREN = 3
ROLE_CHOICES = [("member", "구성원"), ("treasurer", "회계"), ("leader", "대표")]
RESIDENCE_SELECT = [("", "거주 자치구를 선택해 주세요")] + [
    (d, "서울 밖 (경기·인천 등 다른 시·도)" if d == OUTSIDE_SEOUL else d) for d in RESIDENCE_CHOICES]
RESIDENCE_MSG = "이 가구가 사는 자치구를 선택해 주세요."
AFFILIATION_MSG = "모임이 주로 활동하는 곳을 선택해 주세요."


def known_choice(message):
    """A radio or select answer must be one of its choices (WTForms' own check speaks English)."""
    def check(form, field):
        if not field.data or field.data not in {value for value, _label in field.choices}:
            raise ValidationError(message)
    check.field_flags = {"required": True}  # the label's * like DataRequired's
    return check


def birth_year_month(form, field):
    """'2024-05' (also 2024.5, 202405, 2024년 5월) -> stored as 'YYYY-MM'; not in the future."""
    if not field.data:
        return
    parsed = parse_birth_ym(field.data)
    if parsed is None:
        raise ValidationError("출생 연월을 '2024-05'처럼 연도와 월로 적어 주세요.")
    today = today_kst()
    if parsed > (today.year, today.month):
        raise ValidationError("출생 연월이 오늘보다 뒤입니다. 태어난 자녀만 적어 주세요.")
    if parsed < (today.year - 19, 1):
        raise ValidationError("출생 연월을 확인해 주세요. 자녀가 너무 오래전에 태어난 것으로 되어 있습니다.")
    field.data = format_ym(*parsed)


class HouseholdForm(BaseSubForm):
    """One household: the parent who represents it and their children (birth year-month only)."""

    parent_name = StringField("보호자 이름", validators=[DataRequired(REQUIRED), Length(max=50, message="50자 이하로 입력해 주세요.")])
    phone = StringField("휴대전화번호", validators=[DataRequired(REQUIRED), mobile_number], description="예: 010-1234-5678")
    role = SelectField("역할", choices=ROLE_CHOICES, default="member")
    child_1 = StringField("자녀 출생 연월", validators=[DataRequired("자녀 한 명 이상의 출생 연월을 적어 주세요."), birth_year_month],
                          description="예: 2024-05 (태어난 해와 달만 적습니다)")
    child_2 = StringField("둘째 자녀 출생 연월 (선택)", validators=[Optional(), birth_year_month])
    child_3 = StringField("셋째 자녀 출생 연월 (선택)", validators=[Optional(), birth_year_month])
    resident_district = SelectField("거주 자치구", choices=RESIDENCE_SELECT, validate_choice=False,
                                    validators=[known_choice(RESIDENCE_MSG)],
                                    description="이 가구가 사는 곳입니다. 사업의 거주 요건(서울 거주 가구 비율)을 확인하는 데만 씁니다.")
    email = EmailField("초대할 이메일 (선택)", validators=[Optional(), Email(EMAIL_MSG), Length(max=254)])

    STEP2_FIELDS = ("parent_name", "phone", "role", "resident_district", "child_1", "child_2", "child_3")

    @property
    def birth_yms(self) -> tuple[str, ...]:
        return tuple(f.data for f in (self.child_1, self.child_2, self.child_3) if f.data)


class GroupRegistrationForm(BaseForm):
    step = HiddenField(default="1")

    # Step 1: basic facts
    name = StringField("모임 이름", validators=[DataRequired(REQUIRED), Length(max=60, message="60자 이하로 입력해 주세요.")])
    district = SelectField("자치구", choices=[("", "자치구를 선택해 주세요")] + [(d, d) for d in SEOUL_DISTRICTS],
                           validators=[DataRequired("자치구를 선택해 주세요.")])
    dong = StringField("동", validators=[DataRequired(REQUIRED), Length(max=30, message="30자 이하로 입력해 주세요.")],
                       description="예: 망원동")
    meeting_place = StringField("주로 모이는 곳", validators=[DataRequired(REQUIRED), Length(max=120, message="120자 이하로 입력해 주세요.")],
                                description="예: 망원동 공동육아방, 망원한강공원")
    activity_type = SelectField("활동 유형", choices=[("", "활동 유형을 선택해 주세요")] + [(a, a) for a in ACTIVITY_TYPES],
                                validators=[DataRequired("활동 유형을 선택해 주세요.")])
    affiliation = RadioField("주로 활동하는 곳", choices=GroupAffiliation.choices(), validate_choice=False,
                             validators=[known_choice(AFFILIATION_MSG)],
                             description="육아종합지원센터나 공동육아나눔터에서 모이면 그곳을, 아니면 '기타'를 고릅니다.")
    description = TextAreaField("모임 소개", validators=[DataRequired(REQUIRED), Length(max=2000, message="2,000자 이하로 입력해 주세요.")],
                                description="어떤 가정이 모여 무엇을 하는지 두세 문장으로 적어 주세요.")

    # Step 2 (and 3: e-mail addresses for invitations)
    households = FieldList(FormField(HouseholdForm), min_entries=1, max_entries=MAX_HOUSEHOLDS)

    # Step 4: consents, each separate (PIPA 제15조·제17조·제22조)
    consent_collection = BooleanField("개인정보 수집·이용에 동의합니다. 함께 적은 가구의 보호자에게도 이 내용을 알리고 동의를 받았습니다. (필수)")
    consent_provision = BooleanField("자치구·서울시에 개인정보를 제공하는 데 동의합니다. (공모사업 신청 시 필수)")
    consent_photos = BooleanField("활동 사진의 수집·이용에 동의합니다. (선택)")
    consent_publish_name = BooleanField("선정되면 결과 공개 화면에 모임 이름과 자치구를 싣는 데 동의합니다. (선택)")

    STEP1_FIELDS = ("name", "district", "dong", "meeting_place", "activity_type", "affiliation", "description")

    @property
    def current_step(self) -> int:
        try:
            return min(max(int(self.step.data or 1), 1), len(STEPS))
        except ValueError:
            return 1

    # Step validation: each step checks its own fields, and every field is validated once.

    def validate_step(self, step: int) -> bool:
        ok = True
        if step == 1:
            for name in self.STEP1_FIELDS:
                ok = self[name].validate(self) and ok
        elif step == 2:
            ok = self._validate_households()
        elif step == 3:
            ok = self._validate_invitations()
        elif step == 4:
            if not self.consent_collection.data:
                self.consent_collection.errors = ["개인정보 수집·이용에 동의해야 모임을 등록할 수 있습니다."]
                ok = False
        return ok

    def _validate_households(self) -> bool:
        ok = True
        if not self.households.entries:
            self.households.errors = ["가구를 한 곳 이상 적어 주세요."]
            return False
        seen_phones = {}
        treasurers = 0
        for index, entry in enumerate(self.households.entries):
            sub = entry.form
            for name in HouseholdForm.STEP2_FIELDS:
                ok = sub[name].validate(sub) and ok
            if index == 0 and sub.role.data != "leader":
                sub.role.data = "leader"  # the registering parent is 대표
            elif index > 0 and sub.role.data == "leader":
                sub.role.errors.append("대표는 등록하는 분(첫 번째 가구) 한 명입니다. 회계나 구성원을 선택해 주세요.")
                ok = False
            if sub.role.data == "treasurer":
                treasurers += 1
                if treasurers > 1:
                    sub.role.errors.append("회계는 한 명만 지정할 수 있습니다.")
                    ok = False
            digits = "".join(ch for ch in sub.phone.data or "" if ch.isdigit())
            if digits and not sub.phone.errors:
                if digits in seen_phones:
                    sub.phone.errors.append(f"{seen_phones[digits]}번째 가구와 휴대전화번호가 같습니다. 가구마다 다른 번호를 적어 주세요.")
                    ok = False
                seen_phones.setdefault(digits, index + 1)
        return ok

    def _validate_invitations(self) -> bool:
        ok = True
        seen = {}
        for index, entry in enumerate(self.households.entries):
            if index == 0:
                entry.form.email.data = ""
                continue
            field = entry.form.email
            if not field.validate(entry.form):
                ok = False
                continue
            address = (field.data or "").lower()
            if address:
                if address in seen:
                    field.errors.append("다른 가구와 이메일이 같습니다.")
                    ok = False
                seen[address] = index
        return ok

    def first_invalid_step(self) -> int | None:
        for number, _title in STEPS:
            if not self.validate_step(number):
                return number
        return None


# The group page holds several forms: each control has an id of its own (the posted names stay).

class MemberInviteForm(BaseForm):
    member_id = SelectField("초대할 가구", choices=[], validators=[DataRequired("초대할 가구를 선택해 주세요.")],
                            id="invite-member_id")
    email = EmailField("이메일", validators=[DataRequired(REQUIRED), Email(EMAIL_MSG), Length(max=254)], id="invite-email")


class HandoverForm(BaseForm):
    role = SelectField("넘겨줄 역할", choices=[("leader", "대표"), ("treasurer", "회계")], validators=[DataRequired()],
                       id="handover-role")
    member_id = SelectField("새로 맡을 분", choices=[], validators=[DataRequired("새로 맡을 분을 선택해 주세요.")],
                            id="handover-member_id")


class AffiliationForm(BaseForm):
    """Staff correct where a group meets (the centre's counts by 센터/나눔터/기타 read it)."""

    affiliation = RadioField("주로 활동하는 곳", choices=GroupAffiliation.choices(), validate_choice=False,
                             validators=[known_choice(AFFILIATION_MSG)], id="affiliation")


class ResidenceForm(BaseForm):
    """The 거주 자치구 of every household of a group: one select each, named ``district-<member id>``
    (the households are the group's, so the fields are made per request, not declared)."""

    def __init__(self, members, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = list(members)
        self.values: dict[int, str] = {m.id: m.resident_district or "" for m in self.members}
        self.member_errors: dict[int, str] = {}

    def read(self, formdata) -> bool:
        """Take the posted selects (CSRF checked too); every household needs a known choice."""
        ok = self.validate()
        for member in self.members:
            value = (formdata.get(f"district-{member.id}") or "").strip()
            self.values[member.id] = value
            if value not in RESIDENCE_CHOICES:
                self.member_errors[member.id] = RESIDENCE_MSG
                ok = False
        return ok

    @property
    def choices(self):
        return RESIDENCE_SELECT


class GroupSearchForm(BaseForm):
    class Meta:
        csrf = False

    q = SearchField("모임명·등록번호·동", validators=[Optional(), Length(max=100)])
    district = SelectField("자치구", choices=[("", "전체")] + [(d, d) for d in SEOUL_DISTRICTS], validators=[Optional()])
    status = SelectField("상태", choices=[("", "전체")] + GroupState.choices(), validators=[Optional()])
    affiliation = SelectField("모이는 곳", choices=[("", "전체")] + GroupAffiliation.choices(), validators=[Optional()])
    sort = SelectField("정렬", choices=[("reg_no", "등록번호"), ("name", "모임명"), ("district", "자치구"),
                                       ("households", "가구 수"), ("created", "등록일")], validators=[Optional()])
    direction = SelectField("순서", choices=[("asc", "오름차순"), ("desc", "내림차순")], validators=[Optional()])
